package verify

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// dbTarget reads a database credential's destination: c.Host (with the
// scheme's default port), and from c.URL (when set) the database name and
// the query; c.URL's host, if any, must be c.Host.
func dbTarget(c Credential, schemes []string, port string) (hp, db string, q url.Values, err error) {
	hp, ok := hostPort(c.Host, port)
	if !ok {
		return "", "", nil, fmt.Errorf("%s credential without a host", c.Kind)
	}
	q = url.Values{}
	if c.URL == "" {
		return hp, "", q, nil
	}
	u, perr := url.Parse(c.URL)
	if perr != nil {
		return "", "", nil, fmt.Errorf("%s credential with an unreadable URL", c.Kind)
	}
	known := false
	for _, s := range schemes {
		known = known || strings.EqualFold(u.Scheme, s)
	}
	if !known {
		return "", "", nil, fmt.Errorf("%s credential with a URL of scheme %q", c.Kind, u.Scheme)
	}
	if u.Host != "" {
		if uhp, ok := hostPort(u.Host, port); !ok || uhp != hp {
			return "", "", nil, fmt.Errorf("the %s URL's host is not the credential's host", c.Kind)
		}
	}
	return hp, strings.TrimPrefix(u.Path, "/"), u.Query(), nil
}

// pgSSLModes are the sslmode values taken from a credential's URL
// (default prefer: TLS when the server offers it, like libpq).
var pgSSLModes = map[string]bool{
	"disable": true, "allow": true, "prefer": true, "require": true, "verify-ca": true, "verify-full": true,
}

// pgQuote quotes a keyword/value connection string value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// postgres connects once (pgx's pgconn: no pool, no retry; sslmode prefer
// tries TLS then plain text only when TLS is refused, not after a wrong
// password) and runs SELECT current_user.
func (v *Verifier) postgres(ctx context.Context, c Credential) Result {
	hp, db, q, err := dbTarget(c, []string{"postgres", "postgresql"}, "5432")
	if err != nil {
		return unknown(err.Error())
	}
	user := c.Username
	if user == "" {
		user = "postgres"
	}
	mode := q.Get("sslmode")
	if !pgSSLModes[mode] {
		mode = "prefer"
	}
	host, port, _ := net.SplitHostPort(hp)
	conn := fmt.Sprintf("host=%s port=%s user=%s sslmode=%s", pgQuote(host), port, pgQuote(user), mode)
	if db != "" {
		conn += " dbname=" + pgQuote(db)
	}
	cfg, err := pgconn.ParseConfig(conn)
	if err != nil {
		return unknown("postgres: building the connection settings failed")
	}
	cfg.Password = c.Secret
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil } // v.dial resolves and checks
	// sslmode prefer (and allow) make pgconn try a second connection, TLS
	// or not, when the first fails before authentication: fine after a
	// refused TLS handshake (the password was not sent yet), but a network
	// error is not tried again.
	var dialErr error
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dialErr != nil {
			return nil, dialErr
		}
		conn, err := v.dial(ctx, network, addr)
		dialErr = err
		return conn, err
	}
	cfg.ConnectTimeout = 0
	if v.opts.RootCAs != nil && strings.HasPrefix(mode, "verify-") {
		if cfg.TLSConfig != nil {
			cfg.TLSConfig.RootCAs = v.opts.RootCAs
		}
		for _, fb := range cfg.Fallbacks {
			if fb.TLSConfig != nil {
				fb.TLSConfig.RootCAs = v.opts.RootCAs
			}
		}
	}
	if err := v.wait(ctx, hp); err != nil {
		return unknownErr("postgres", err)
	}
	pc, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code {
			case "28P01":
				return invalid("postgres: password authentication failed")
			case "3D000":
				return Result{Status: StatusVerified, Identity: user, Reason: "password accepted; the database does not exist"}
			case "42501":
				return Result{Status: StatusVerified, Identity: user, Reason: "password accepted; no permission to connect to the database"}
			}
			return unknown(fmt.Sprintf("postgres: server refused the connection (SQLSTATE %s)", pgErr.Code))
		}
		if errors.Is(err, ErrForbiddenAddress) {
			return unknownErr("postgres", ErrForbiddenAddress)
		}
		return unknownErr("postgres", err)
	}
	defer pc.Close(context.WithoutCancel(ctx))
	res := pc.ExecParams(ctx, "SELECT current_user", nil, nil, nil, nil).Read()
	if res.Err != nil || len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return Result{Status: StatusVerified, Identity: user, Reason: "password accepted; SELECT current_user failed"}
	}
	return verified(string(res.Rows[0][0]))
}

// nopLogger silences the MySQL driver's own log.
type nopLogger struct{}

func (nopLogger) Print(...any) {}

// mysql connects once (no database/sql pool, so no retry) with TLS when
// the server offers it, and runs SELECT CURRENT_USER().
func (v *Verifier) mysql(ctx context.Context, c Credential) Result {
	hp, db, _, err := dbTarget(c, []string{"mysql", "mariadb"}, "3306")
	if err != nil {
		return unknown(err.Error())
	}
	if c.Username == "" {
		return unknown("mysql credential without a user")
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = c.Username, c.Secret
	cfg.Net, cfg.Addr, cfg.DBName = "tcp", hp, db
	cfg.DialFunc = v.dial
	cfg.Logger = nopLogger{}
	cfg.TLSConfig = "preferred" // TLS when offered, unverified: like libpq's prefer
	cfg.MaxAllowedPacket = 1 << 20
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return unknown("mysql: building the connection settings failed")
	}
	if err := v.wait(ctx, hp); err != nil {
		return unknownErr("mysql", err)
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			switch me.Number {
			case 1045: // ER_ACCESS_DENIED_ERROR
				return invalid("mysql: access denied (wrong password or unknown user)")
			case 1044, 1049: // no access to the database / unknown database: after authentication
				return Result{Status: StatusVerified, Identity: c.Username, Reason: "password accepted; the database is not accessible"}
			}
			return unknown(fmt.Sprintf("mysql: server refused the connection (error %d)", me.Number))
		}
		return unknownErr("mysql", err)
	}
	defer conn.Close()
	identity, err := mysqlCurrentUser(ctx, conn)
	if err != nil {
		return Result{Status: StatusVerified, Identity: c.Username, Reason: "password accepted; SELECT CURRENT_USER() failed"}
	}
	return verified(identity)
}

func mysqlCurrentUser(ctx context.Context, conn driver.Conn) (string, error) {
	qc, ok := conn.(driver.QueryerContext)
	if !ok {
		return "", errors.New("driver cannot query")
	}
	rows, err := qc.QueryContext(ctx, "SELECT CURRENT_USER()", nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if len(dest) != 1 {
		return "", errors.New("unexpected columns")
	}
	if err := rows.Next(dest); err != nil && err != io.EOF {
		return "", err
	}
	switch x := dest[0].(type) {
	case []byte:
		return string(x), nil
	case string:
		return x, nil
	}
	return "", errors.New("no row")
}
