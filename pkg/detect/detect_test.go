package detect

import (
	"strings"
	"sync"
	"testing"
)

const (
	githubPAT = "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	awsKey    = "AKIAZ7QH3LMNX4TR2KWP"
)

func newDetector(t *testing.T) *Detector {
	t.Helper()
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestScanFindsRuleAndLine(t *testing.T) {
	d := newDetector(t)
	text := "# config\n\nGITHUB_TOKEN=" + githubPAT + "\n"
	fs := d.Scan("/app/.env", []byte(text), 1)
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %+v", fs)
	}
	if fs[0].RuleID != "github-pat" || fs[0].Line != 3 || fs[0].Secret != githubPAT {
		t.Errorf("got rule %q line %d secret %q; want github-pat line 3", fs[0].RuleID, fs[0].Line, fs[0].Secret)
	}
	// A chunk that starts on line 100 reports lines from there.
	fs = d.Scan("/app/.env", []byte("x\nid="+awsKey+"\n"), 100)
	if len(fs) != 1 || fs[0].RuleID != "aws-access-token" || fs[0].Line != 101 {
		t.Errorf("got %+v; want aws-access-token on line 101", fs)
	}
}

func TestScanCopiesSecretOutOfBuffer(t *testing.T) {
	d := newDetector(t)
	buf := []byte("GITHUB_TOKEN=" + githubPAT + "\n")
	fs := d.Scan("/x", buf, 1)
	for i := range buf {
		buf[i] = 'z'
	}
	if len(fs) != 1 || fs[0].Secret != githubPAT {
		t.Fatalf("secret changed with the buffer: %+v", fs)
	}
}

func TestNoFindingInCleanText(t *testing.T) {
	d := newDetector(t)
	if fs := d.Scan("/etc/motd", []byte("Welcome to busybox.\nNothing to see here.\n"), 1); len(fs) != 0 {
		t.Errorf("clean text gave %+v", fs)
	}
}

func TestScanPathRules(t *testing.T) {
	d := newDetector(t)
	fs := d.ScanPath("/root/certs/client.p12")
	if len(fs) != 1 || fs[0].RuleID != "pkcs12-file" {
		t.Errorf("want pkcs12-file for a .p12 path, got %+v", fs)
	}
	if fs := d.ScanPath("/root/certs/client.pem"); len(fs) != 0 {
		t.Errorf("want nothing for a .pem path, got %+v", fs)
	}
}

func TestConcurrentScans(t *testing.T) {
	d := newDetector(t)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := strings.Repeat("filler line\n", i) + "token=" + githubPAT + "\n"
			fs := d.Scan("/f", []byte(text), 1)
			if len(fs) != 1 || fs[0].Line != i+1 {
				errs <- "wrong result"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		githubPAT:  "ghp_****",
		"abc":      "****",
		"abcdefgh": "ab****",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
