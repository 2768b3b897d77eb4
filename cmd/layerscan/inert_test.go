package main

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/interrupt"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/redact"
)

// Fake secrets made for these tests.
const (
	inertGitHub = "ghp_hOf8LLFcxTQjvyiXHalVzav0epCziUzy7Q3B"
	inertAWS    = "AKIABIFLBN7MOEEOV42R"
	inertAWS2   = "AKIAZQDIC7FLQ4VDXCZR"
)

// encodedSecretsImage: secrets that reach the history and the file names
// only in encoded form or as a name:
//   - RUN echo BASE64 | base64 -d > /root/.token, BASE64 = base64("token=ghp_…");
//   - RUN echo HEX | xxd -r -p > /app/aws, HEX = hex of an AWS key id;
//   - a file named after another AWS key id.
func encodedSecretsImage(t *testing.T) string {
	b64 := base64.StdEncoding.EncodeToString([]byte("token=" + inertGitHub))
	hx := hex.EncodeToString([]byte(inertAWS))
	return hostileImage{
		layers: []hostileLayer{
			{tar: testimage.Tar(testimage.Entry{Name: "root/.token", Body: "token=" + inertGitHub + "\n", Format: tar.FormatPAX})},
			{tar: testimage.Tar(testimage.Entry{Name: "app/aws", Body: "AWS_ACCESS_KEY_ID=" + inertAWS + "\n", Format: tar.FormatPAX})},
			{tar: testimage.Tar(testimage.Entry{Name: "app/" + inertAWS2 + ".txt", Body: "aws_access_key_id = " + inertAWS2 + "\n", Format: tar.FormatPAX})},
		},
		history: []map[string]any{
			{"created_by": "/bin/sh -c echo " + b64 + " | base64 -d > /root/.token"},
			{"created_by": "/bin/sh -c echo " + hx + " | xxd -r -p > /app/aws"},
			{"created_by": "/bin/sh -c #(nop) COPY file:0123 in /app/"},
		},
	}.write(t)
}

// encodedLeaks lists the forms of the planted secrets found in out: the
// secrets, every encoding the redactor knows of them, and the exact
// encoded strings the history holds.
func encodedLeaks(out string) []string {
	var found []string
	extra := []string{base64.StdEncoding.EncodeToString([]byte("token=" + inertGitHub)), hex.EncodeToString([]byte(inertAWS))}
	for _, sec := range []string{inertGitHub, inertAWS, inertAWS2} {
		for _, f := range append(redact.Forms(sec), extra...) {
			if len(f) >= 8 && strings.Contains(out, f) {
				found = append(found, f)
			}
		}
	}
	return found
}

// TestEncodedSecretsStayHidden: no output, format or command prints a
// secret through an encoding or a name.
func TestEncodedSecretsStayHidden(t *testing.T) {
	ref := "oci:" + encodedSecretsImage(t)
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "t.tmpl")
	os.WriteFile(tmpl, []byte(`{{range .Images}}{{range .Layers}}{{.CreatedBy}}|{{.Instruction}}
{{end}}{{range .Findings}}{{.Path}} {{.Layer.CreatedBy}} {{.Evidence}}
{{end}}{{end}}`), 0o644)
	runs := [][]string{
		{ref, "--color", "never"},
		{"--format", "json", ref},
		{"--format", "sarif", ref},
		{"--format", "csv", ref},
		{"--format", "markdown", ref},
		{"--format", "html", ref},
		{"--format", "template", "--template", tmpl, ref},
		{"history", ref},
		{"history", "--format", "json", ref},
		{"ls", ref, "--long"},
	}
	found := 0
	for _, args := range runs {
		res := runCLI(t, nil, args...)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("layerscan %q: exit %d\n%s", args, res.code, res.stderr)
		}
		if l := encodedLeaks(res.stdout + res.stderr); len(l) > 0 {
			t.Errorf("layerscan %q prints %q", args, l)
		}
		if strings.Contains(res.stdout, "aws-access-token") {
			found++
		}
	}
	if found == 0 {
		t.Fatal("the planted AWS keys were not found at all: the test checks nothing")
	}
	// With --show-secrets they are printed: the forms are really there.
	if res := runCLI(t, nil, "history", "--show-secrets", ref); len(encodedLeaks(res.stdout)) == 0 {
		t.Errorf("--show-secrets hides the encoded forms too:\n%s", res.stdout)
	}
}

// controlPath is a name with what a terminal would act on: OSC 52 (set
// the clipboard), clear screen, a carriage return that overwrites the
// line, a line feed that starts a new one, and a right-to-left override.
const controlPath = "app/x\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\rEVIL\nINJECTED\u202egnp.txt"

// TestOutputsStayInert: strings from the image never reach the output as
// control characters.
func TestOutputsStayInert(t *testing.T) {
	ref := "oci:" + hostileImage{
		refName: "evil\x1b[2J\rtag\nX",
		layers: []hostileLayer{
			{tar: testimage.Tar(testimage.Entry{Name: controlPath, Body: "TOKEN=" + inertGitHub + "\n", Format: tar.FormatPAX})},
			{tar: testimage.Tar(testimage.Entry{Name: strings.Replace(controlPath, "app/", "app/.wh.", 1), Format: tar.FormatPAX})},
		},
		history: []map[string]any{
			{"created_by": "/bin/sh -c #(nop) COPY file:\x1b]52;c;ZXZpbA==\x07 in /\rEVIL\nINJECTED"},
			{"created_by": "/bin/sh -c rm '\x1b[2J'"},
		},
	}.write(t)
	bad := func(out string) string {
		for _, c := range []string{"\x1b", "\r", "\x07", "\u202e", "\nINJECTED", "\nX"} {
			if strings.Contains(out, c) {
				return c
			}
		}
		return ""
	}
	for _, args := range [][]string{
		{ref, "--color", "never"},
		{"--format", "csv", ref},
		{"--format", "markdown", ref},
		{"--format", "html", ref},
		{"--format", "sarif", ref},
		{"--format", "json", ref},
		{"history", ref},
		{"history", "--format", "json", ref},
		{"ls", ref, "--long"},
	} {
		res := runCLI(t, nil, args...)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("layerscan %q: exit %d\n%s", args, res.code, res.stderr)
		}
		if c := bad(res.stdout); c != "" {
			t.Errorf("layerscan %q emits %q", args, c)
		}
		if c := bad(res.stderr); c != "" {
			t.Errorf("layerscan %q emits %q on stderr", args, c)
		}
	}
	// The table shows the names quoted, and an extract command that is
	// one printable line with the exact bytes ($'…').
	res := runCLI(t, nil, ref, "--color", "never")
	if !strings.Contains(res.stdout, `"/app/x\x1b]52;c;`) || !strings.Contains(res.stdout, ` $'/app/x\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\x0dEVIL\x0aINJECTED\xe2\x80\xaegnp.txt' -o`) {
		t.Errorf("names not shown quoted, or no exact extract command:\n%s", res.stdout)
	}
}

// TestOutputFileModes: a report with secrets goes to a 0600 file even
// when the file existed with another mode; a symbolic link at the output
// path is refused, or replaced with --force.
func TestOutputFileModes(t *testing.T) {
	ref := "oci:" + encodedSecretsImage(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "report.json")
	os.WriteFile(out, []byte("old"), 0o666)
	os.Chmod(out, 0o666)
	if res := runCLI(t, nil, "--show-secrets", "--format", "json", "-o", out, ref); res.code != 1 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("existing report file is %v after --show-secrets, want 0600", st.Mode().Perm())
	}
	other := filepath.Join(dir, "other.txt")
	os.WriteFile(other, []byte("someone else's file\n"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink(other, link)
	for _, args := range [][]string{
		{"--show-secrets", "--format", "json", "-o", link, ref},
		{"--format", "sarif=" + link, ref},
		{"extract", ref, "--layer", "0", "/root/.token", "-o", link},
	} {
		res := runCLI(t, nil, args...)
		if res.code != 2 || !strings.Contains(res.stderr, "symbolic link") {
			t.Errorf("layerscan %q: exit %d, want 2 naming the link\n%s", args, res.code, res.stderr)
		}
		if b, _ := os.ReadFile(other); string(b) != "someone else's file\n" {
			t.Fatalf("layerscan %q wrote through the link: %q", args, b)
		}
	}
	res := runCLI(t, nil, "extract", ref, "--layer", "0", "/root/.token", "-o", link, "--force")
	if res.code != 0 {
		t.Fatalf("extract --force: exit %d %s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(other); string(b) != "someone else's file\n" {
		t.Errorf("extract --force wrote through the link: %q", b)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode().Type() != 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("extract --force left %v, want a 0600 regular file", st.Mode())
	}
	if b, _ := os.ReadFile(link); !bytes.Contains(b, []byte(inertGitHub)) {
		t.Errorf("extracted %q", b)
	}
}

// TestLongPathsKeepTheirFates: two paths longer than --max-path-len that
// share their first 4,096 bytes stay two files — the one a later layer
// deletes is deleted, the other present — and the extract command a
// finding carries gets the file out.
func TestLongPathsKeepTheirFates(t *testing.T) {
	dir := "app/" + strings.Repeat("d", 200) + "/"
	long := dir + strings.Repeat("n", 4200)
	a, b := long+"-a.env", long+"-b.env"
	ref := "oci:" + hostileImage{
		layers: []hostileLayer{
			{tar: testimage.Tar(testimage.Entry{Name: a, Body: "TOKEN=" + inertGitHub + "\n", Format: tar.FormatPAX}, testimage.Entry{Name: b, Body: "KEY=" + inertAWS + "\n", Format: tar.FormatPAX})},
			{tar: testimage.Tar(testimage.Entry{Name: dir + ".wh." + strings.Repeat("n", 4200) + "-a.env", Format: tar.FormatPAX})},
		},
	}.write(t)
	rep := scanJSON(t, nil, ref)
	status := map[string]string{}
	var evidenceA string
	for _, f := range rep.Images[0].Findings {
		status[f.Rule] = f.Status
		if f.Rule == "github-pat" {
			evidenceA = rep.Images[0].Evidence(f)
		}
	}
	if status["github-pat"] != "deleted" || status["aws-access-token"] != "present" {
		t.Fatalf("statuses %v, want github-pat deleted, aws-access-token present", status)
	}
	// Run the evidence command (its arguments after "layerscan").
	out := filepath.Join(t.TempDir(), "a.env")
	args := shellWords(t, strings.TrimPrefix(evidenceA, "layerscan "))
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = out
		}
	}
	if res := runCLI(t, nil, args...); res.code != 0 {
		t.Fatalf("evidence %q: exit %d %s", evidenceA, res.code, res.stderr)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), inertGitHub) {
		t.Errorf("extracted %q", b)
	}
}

// shellWords splits a command of single-quoted words the way a shell
// does (the evidence commands quote every argument).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	in, any := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in, any = !in, true
		case c == '\\' && !in && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ' ' && !in:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteByte(c)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// TestLayoutFilesMustBeRegular: a FIFO or a symbolic link (to /dev/zero)
// among an OCI layout's blobs is an error on that layer, at once; the
// other layers are scanned.
func TestLayoutFilesMustBeRegular(t *testing.T) {
	for _, kind := range []string{"fifo", "symlink"} {
		t.Run(kind, func(t *testing.T) {
			good := testimage.Tar(testimage.Entry{Name: "app/a.env", Body: "TOKEN=" + inertGitHub + "\n", Format: tar.FormatPAX})
			bad := testimage.Tar(testimage.Entry{Name: "app/b.env", Body: "KEY=" + inertAWS + "\n", Format: tar.FormatPAX})
			dir := hostileImage{layers: []hostileLayer{{tar: good}, {tar: bad}}}.write(t)
			blob := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(digestStr(gzipped(bad)), "sha256:"))
			os.Remove(blob)
			var err error
			if kind == "fifo" {
				err = syscall.Mkfifo(blob, 0o644)
			} else {
				err = os.Symlink("/dev/zero", blob)
			}
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := runCLI(t, nil, "--format", "json", "oci:"+dir)
			if res.code != exitIncomplete || !strings.Contains(res.stdout, "not a regular file") || !strings.Contains(res.stdout, "github-pat") {
				t.Errorf("exit %d after %s, want 3 with the layer error and layer 0's finding\n%s%s", res.code, time.Since(start), res.stdout, res.stderr)
			}
		})
	}
}

// TestSignalWhileBlocked: SIGTERM ends the process even when it is
// blocked where no context reaches (opening a FIFO given as the image,
// with no writer): it exits 130 within the unwind grace.
func TestSignalWhileBlocked(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "image.tar")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binPath, fifo)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatalf("exited before the signal: %s", stderr.String())
	case <-time.After(time.Second):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(interrupt.Grace + 5*time.Second):
		cmd.Process.Kill()
		t.Fatal("no exit after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != interrupt.Code {
		t.Errorf("exit %d, want %d; stderr %s", code, interrupt.Code, stderr.String())
	}
}
