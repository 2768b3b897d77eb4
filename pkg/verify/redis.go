package verify

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRESP bounds one RESP line or bulk string read from a server.
const maxRESP = 4096

// redis connects once (TLS for rediss://), sends AUTH [user] password and,
// when it is accepted, ACL WHOAMI (Redis 6+) for the identity.
func (v *Verifier) redis(ctx context.Context, c Credential) Result {
	hp, _, _, err := dbTarget(c, []string{"redis", "rediss"}, "6379")
	if err != nil {
		return unknown(err.Error())
	}
	useTLS := false
	if u, err := url.Parse(c.URL); err == nil && strings.EqualFold(u.Scheme, "rediss") {
		useTLS = true
	}
	if err := v.wait(ctx, hp); err != nil {
		return unknownErr("redis", err)
	}
	conn, err := v.dial(ctx, "tcp", hp)
	if err != nil {
		return unknownErr("redis", err)
	}
	if useTLS {
		cfg := v.tls.Clone()
		cfg.ServerName = hostname(hp)
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return unknownErr("redis TLS", err)
		}
		conn = tc
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(v.opts.Timeout))
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	rw := bufio.NewReadWriter(bufio.NewReaderSize(conn, maxRESP), bufio.NewWriter(conn))
	args := []string{"AUTH", c.Secret}
	if c.Username != "" {
		args = []string{"AUTH", c.Username, c.Secret}
	}
	reply, err := respCall(rw, args...)
	if err != nil {
		return unknownErr("redis", err)
	}
	if reply.err != "" {
		msg := strings.ToLower(reply.err)
		switch {
		case strings.HasPrefix(msg, "wrongpass"), strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"):
			return invalid("redis: AUTH refused")
		case strings.Contains(msg, "without any password configured"), strings.Contains(msg, "no password is set"):
			return unknown("redis: the server has no password set: nothing to check the credential against")
		}
		return unknown("redis: AUTH answered an error")
	}
	who, err := respCall(rw, "ACL", "WHOAMI")
	identity := c.Username
	if identity == "" {
		identity = "default"
	}
	if err == nil && who.err == "" && who.str != "" {
		identity = who.str
	}
	_, _ = respCall(rw, "QUIT")
	return verified(identity)
}

// respReply is a simple string, bulk string or error reply.
type respReply struct{ str, err string }

// respCall writes a command as a RESP array of bulk strings and reads one
// reply (simple string, error, integer or bulk string; bounded).
func respCall(rw *bufio.ReadWriter, args ...string) (respReply, error) {
	fmt.Fprintf(rw, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(rw, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rw.Flush(); err != nil {
		return respReply{}, fmt.Errorf("sending: %w", err)
	}
	line, err := respLine(rw.Reader)
	if err != nil {
		return respReply{}, err
	}
	if line == "" {
		return respReply{}, errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return respReply{str: line[1:]}, nil
	case '-':
		return respReply{err: line[1:]}, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n > maxRESP {
			return respReply{}, errors.New("bad bulk reply")
		}
		if n < 0 {
			return respReply{}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rw, buf); err != nil {
			return respReply{}, fmt.Errorf("reading: %w", err)
		}
		return respReply{str: string(buf[:n])}, nil
	}
	return respReply{}, errors.New("not a RESP reply")
}

func respLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("reply line too long")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "", fmt.Errorf("reading: %w", context.DeadlineExceeded)
		}
		return "", fmt.Errorf("reading: %w", err)
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
