// Package fingerprint makes the identifiers layerscan prints and stores
// for secrets without revealing them: keyed HMAC-SHA256 values under a
// Key that is never in a report or a store.
//
// A finding's fingerprint (Key.Finding) names one secret at one place
// (rule, path, secret): .layerscanignore and --baseline suppress by it. A
// secret's id (Key.Secret) names the value alone, whatever rule, file,
// layer, image or encoding it was found in: the secrets view groups by it,
// and verification verdicts are cached by it.
//
// An unkeyed hash of a secret is a dictionary attack away from the secret
// (a weak password is found by hashing guesses); a keyed one is not,
// without the key. The key is made once per installation (LoadOrCreate:
// a 0600 file under the user's config directory) or given to every
// machine that must produce the same values (LAYERSCAN_FINGERPRINT_KEY:
// teams, sweep shards). Its public ID lets a store refuse values made
// under another key.
//
// Legacy is the unkeyed fingerprint of layerscan before keyed ones; it
// exists only so that old ignore files and baselines still match for one
// version (docs/rules.md, "Fingerprints").
package fingerprint
