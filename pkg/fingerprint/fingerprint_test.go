package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustKey(t *testing.T, s string) *Key {
	t.Helper()
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyedValues(t *testing.T) {
	a := mustKey(t, "0123456789abcdef0123456789abcdef")
	b := mustKey(t, "a team's shared key, long enough")
	const secret = "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	fa, fb := a.Finding("github-pat", "/app/.env", secret), b.Finding("github-pat", "/app/.env", secret)
	if fa == fb || len(fa) != 32 || len(a.Secret(secret)) != 16 {
		t.Fatalf("fingerprints %s %s", fa, fb)
	}
	if a2 := mustKey(t, "0123456789abcdef0123456789abcdef"); fa != a2.Finding("github-pat", "/app/.env", secret) || a.Secret(secret) != a2.Secret(secret) {
		t.Fatal("not deterministic")
	}
	// Neither the legacy formula nor a plain hash of the value gives them.
	old := sha256.Sum256([]byte("layerscan/v1\x00github-pat\x00/app/.env\x00" + secret))
	plain := sha256.Sum256([]byte(secret))
	for _, v := range []string{hex.EncodeToString(old[:])[:32], hex.EncodeToString(plain[:])[:32], hex.EncodeToString(plain[:])[:16]} {
		if v == fa || v == fb || strings.HasPrefix(v, a.Secret(secret)) {
			t.Errorf("an unkeyed hash reproduces a keyed value: %s", v)
		}
	}
	if Legacy("github-pat", "/app/.env", secret) != hex.EncodeToString(old[:])[:32] {
		t.Error("Legacy is not the old formula")
	}
	if a.ID() == b.ID() || !strings.HasPrefix(a.ID(), "k") {
		t.Errorf("ids %s %s", a.ID(), b.ID())
	}
	if _, err := ParseKey("short"); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "layerscan", "fingerprint.key")
	k1, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if d, _ := os.Stat(filepath.Dir(path)); d.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v", d.Mode().Perm())
	}
	k2, err := LoadOrCreate(path)
	if err != nil || k2.ID() != k1.ID() {
		t.Fatalf("second load: %v, id %s vs %s", err, k2.ID(), k1.ID())
	}
	os.Chmod(path, 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key file: %v", err)
	}
	link := filepath.Join(dir, "link.key")
	os.Chmod(path, 0o600)
	os.Symlink(path, link)
	if _, err := Load(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a symlinked key file: %v", err)
	}
}

func ExampleKey_Secret() {
	k, _ := ParseKey("00112233445566778899aabbccddeeff")
	// The same value has the same id wherever it is found; another key
	// gives another id.
	again, _ := ParseKey("00112233445566778899aabbccddeeff")
	other, _ := ParseKey("ffeeddccbbaa99887766554433221100")
	fmt.Println(k.Secret("hunter2-but-longer") == again.Secret("hunter2-but-longer"))
	fmt.Println(k.Secret("hunter2-but-longer") == other.Secret("hunter2-but-longer"))
	fmt.Println(len(k.Secret("x")), len(k.Finding("rule", "/path", "x")))
	// Output:
	// true
	// false
	// 16 32
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv(EnvKey, "")
	var warn strings.Builder
	k1, err := Resolve("", &warn)
	if err != nil || warn.Len() != 0 {
		t.Fatalf("default key: %v %q", err, warn.String())
	}
	if k2, _ := Resolve("", &warn); k2.ID() != k1.ID() {
		t.Error("the installation key changed between runs")
	}
	t.Setenv(EnvKey, "a shared key for the whole team")
	if k3, _ := Resolve("", &warn); k3.ID() == k1.ID() {
		t.Errorf("%s is not used", EnvKey)
	}
	t.Setenv(EnvKey, "")
	if _, err := Resolve(filepath.Join(home, "missing.key"), &warn); err == nil {
		t.Error("a missing --fingerprint-key-file is not an error")
	}
	// A config directory where nothing can be made: a random key and a warning.
	ro := filepath.Join(home, "ro")
	os.WriteFile(ro, nil, 0o600) // a file where the directory should be
	t.Setenv("XDG_CONFIG_HOME", ro)
	k4, err := Resolve("", &warn)
	if err != nil || k4 == nil || !strings.Contains(warn.String(), "random") {
		t.Errorf("unwritable config dir: %v, warning %q", err, warn.String())
	}
}
