package verify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layerscan/layerscan/pkg/redact"
)

// fake returns a fake secret made for the test: prefix and n random
// characters of alphabet (alphanumeric by default).
func fake(t testing.TB, prefix string, n int) string {
	t.Helper()
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	b.WriteString(prefix)
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteByte(alnum[i.Int64()])
	}
	return b.String()
}

// fakeHex is n random bytes in hex.
func fakeHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// loopback is a Verifier allowed to reach 127.0.0.1 (the test servers).
func loopback(o Options) *Verifier {
	o.AllowHosts = append(o.AllowHosts, "127.0.0.1")
	if o.PerHostRate == 0 {
		o.PerHostRate = 1000
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	return New(o)
}

// check verifies c and fails unless the verdict is want (and, when
// identity is not "-", the identity is identity). It also checks that no
// form of the secret is in the result.
func check(t *testing.T, v *Verifier, c Credential, want, identity string) Result {
	t.Helper()
	r := v.Verify(context.Background(), c)
	if r.Status != want || (identity != "-" && r.Identity != identity) {
		t.Errorf("Verify(%s %s@%s) = %+v, want status %s identity %q", c.Kind, c.Username, c.Host, r, want, identity)
	}
	noSecret(t, r, c.Secret)
	return r
}

// noSecret fails when any encoded form of secret is in r.
func noSecret(t *testing.T, r Result, secret string) {
	t.Helper()
	if secret == "" {
		return
	}
	for _, f := range redact.Forms(secret) {
		if len(f) >= 6 && (strings.Contains(r.Reason, f) || strings.Contains(r.Identity, f)) {
			t.Errorf("result %+v holds a form of the secret (%q)", r, f)
		}
	}
}

// countingListener accepts connections on addr (e.g. "127.0.0.1:0") and
// counts them; a credential sent there would first need one.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func listenCounting(t *testing.T, addr string) *countingListener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	cl := &countingListener{Listener: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			cl.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return cl
}

func (l *countingListener) port() string {
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
