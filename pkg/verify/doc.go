// Package verify tries leaked credentials against the services they
// belong to, to tell a live secret from a dead one: verified (the service
// accepted it), invalid (the service refused it) or unknown (no answer
// either way). It is layerscan's opt-in --verify; docs/verification.md
// says what is sent where.
//
// # Finding credentials with their context
//
// A secret alone cannot be tried: a database password needs its host and
// user, a registry password its registry. FromFile reads them from the
// files that carry them (Docker config.json, .pgpass, .netrc,
// .git-credentials, .npmrc, .git/config, ~/.aws/credentials, and URLs
// with a user and password in any file), FromText from image config and
// history text (ENV values, docker login lines), and FromRule turns a SaaS
// token found by a detector rule into a credential for its vendor.
// Everything they read is hostile input: bounded by MaxParseBytes and
// MaxCredentials.
//
// # Sending a credential only where it belongs
//
// Sending a credential proves it works to whoever receives it, so a
// Verifier sends each credential to its own service only: a registry
// password to its registry (and that registry's token service, on the same
// host name or Docker Hub's/GitLab.com's documented one), a database or
// cache password to its own host, a git password to its own repository
// URL, a SaaS token to its vendor's documented endpoint or the
// Options.Endpoints override for that kind. Every HTTP request passes a
// check of its host against the credential's scope, redirects are not
// followed, no proxy is used. Loopback, private, link-local, CGNAT and
// unspecified addresses are refused unless the host is in
// Options.AllowHosts, checked on the address actually connected to (after
// DNS resolution, so a name that rebinds to 127.0.0.1 is refused too).
// Each credential is tried once, with a per-host rate limit and a timeout;
// nothing is retried. Results never hold the secret.
//
// Typical use:
//
//	v := verify.New(verify.Options{Timeout: 10 * time.Second})
//	defer v.Close()
//	for _, c := range verify.FromFile(path, content) {
//		r := v.Verify(ctx, c)
//		fmt.Println(c.Kind, r.Status, r.Identity, r.Reason)
//	}
package verify
