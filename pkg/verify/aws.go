package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// stsBody is the form body of GetCallerIdentity.
const stsBody = "Action=GetCallerIdentity&Version=2011-06-15"

// aws calls STS GetCallerIdentity (POST / with a form body) signed with
// Signature Version 4; the caller's ARN is the identity.
func (v *Verifier) aws(ctx context.Context, c Credential) Result {
	switch {
	case c.KeyID == "":
		return unknown("AWS secret without its access key id")
	case c.Secret == "":
		return unknown("AWS access key id without its secret access key")
	case strings.HasPrefix(c.KeyID, "ASIA"):
		return unknown("temporary AWS key: it needs its session token")
	}
	base, s, err := v.endpoint(KindAWS)
	if err != nil {
		return unknown(err.Error())
	}
	u := join(base, "/")
	req, err := newRequest(ctx, http.MethodPost, u, stsBody)
	if err != nil {
		return unknownErr("aws", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signV4(req, []byte(stsBody), c.KeyID, c.Secret, stsRegion(base.Hostname()), "sts", time.Now())
	r, err := do(v.client(s), req)
	if err != nil {
		return unknownErr("aws", err)
	}
	var e struct {
		Code string `xml:"Error>Code"`
	}
	if r.status != http.StatusOK {
		_ = xml.Unmarshal(r.body, &e)
		switch e.Code {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature":
			return invalid("AWS STS: " + e.Code)
		case "Throttling", "ThrottlingException", "RequestLimitExceeded":
			return unknown("AWS STS: " + ErrRateLimited.Error())
		}
		res, _ := httpVerdict("AWS STS", r)
		if e.Code != "" {
			res.Reason += " (" + e.Code + ")"
		}
		return res
	}
	var out struct {
		Arn string `xml:"GetCallerIdentityResult>Arn"`
	}
	if err := xml.Unmarshal(r.body, &out); err != nil || out.Arn == "" {
		return unknown("AWS STS answered 200 without an ARN")
	}
	return verified(out.Arn)
}

// stsRegion is the signing region of an STS host: sts.REGION.amazonaws.com
// (and .amazonaws.com.cn), else us-east-1 (the global endpoint's, and any
// override's).
func stsRegion(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) >= 4 && parts[0] == "sts" && parts[2] == "amazonaws" {
		return parts[1]
	}
	return "us-east-1"
}

// signV4 signs req (whose body is body) with AWS Signature Version 4:
// headers host, x-amz-date and content-type are signed, the payload hash
// is the SHA-256 of body, the signature goes into the Authorization
// header (docs.aws.amazon.com, "Create a signed AWS API request").
func signV4(req *http.Request, body []byte, keyID, secret, region, service string, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	payload := sha256.Sum256(body)

	headers := map[string]string{
		"content-type": strings.TrimSpace(req.Header.Get("Content-Type")),
		"host":         host,
		"x-amz-date":   amzDate,
	}
	names := []string{"content-type", "host", "x-amz-date"} // sorted
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n + ":" + headers[n] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{
		req.Method,
		path,
		canonicalQuery(req.URL.Query()),
		canonHeaders.String(),
		signed,
		hex.EncodeToString(payload[:]),
	}, "\n")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	crHash := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	key := hmacSHA256([]byte("AWS4"+secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalQuery is the query sorted by key, then value, each
// URI-encoded (RFC 3986 unreserved characters kept).
func canonicalQuery(q url.Values) string {
	keys := sortedKeys(q)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		slices.Sort(vals)
		for _, v := range vals {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
