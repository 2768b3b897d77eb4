package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/report"
)

// yget walks a decoded YAML document: map keys, or list indexes as ints.
func yget(t *testing.T, doc any, path ...any) any {
	t.Helper()
	cur := doc
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a map at %q", path, k)
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			cur = l[k]
		}
	}
	return cur
}

func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

// The Kubernetes manifests, checked offline (no kubeconform or kubectl
// here): the fields a sharded nightly sweep depends on.
func TestDeployManifests(t *testing.T) {
	dir := filepath.Join(repoRoot(t), "deploy", "kubernetes")
	docs := readYAMLDocs(t, filepath.Join(dir, "cronjob.yaml"))
	if len(docs) != 1 || docs[0]["kind"] != "CronJob" || docs[0]["apiVersion"] != "batch/v1" {
		t.Fatalf("cronjob.yaml: want one batch/v1 CronJob, got %v", docs)
	}
	cj := docs[0]
	if s, _ := yget(t, cj, "spec", "schedule").(string); len(strings.Fields(s)) != 5 {
		t.Errorf("schedule %q", s)
	}
	if yget(t, cj, "spec", "concurrencyPolicy") != "Forbid" {
		t.Error("concurrencyPolicy: want Forbid (two nights' runs must not overlap)")
	}
	job := yget(t, cj, "spec", "jobTemplate", "spec")
	if yget(t, job, "completionMode") != "Indexed" {
		t.Error("jobTemplate: completionMode is not Indexed")
	}
	completions, _ := yget(t, job, "completions").(int)
	parallelism, _ := yget(t, job, "parallelism").(int)
	if completions < 1 || completions != parallelism {
		t.Errorf("completions %d, parallelism %d: want equal (README)", completions, parallelism)
	}
	if n, ok := yget(t, job, "backoffLimitPerIndex").(int); !ok || n < 1 {
		t.Error("backoffLimitPerIndex not set")
	}
	pod := yget(t, job, "template", "spec")
	if yget(t, pod, "restartPolicy") != "Never" {
		t.Error("restartPolicy: backoffLimitPerIndex needs Never")
	}
	if yget(t, pod, "securityContext", "runAsNonRoot") != true {
		t.Error("runAsNonRoot not set")
	}
	c := yget(t, pod, "containers", 0)
	var args []string
	for _, a := range yget(t, c, "args").([]any) {
		args = append(args, a.(string))
	}
	joined := strings.Join(args, " ")
	if args[0] != "sweep" || !strings.Contains(joined, "--shards "+itoa(completions)) || !strings.Contains(joined, "--log-format json") {
		t.Errorf("args %q: want sweep … --shards %d --log-format json", joined, completions)
	}
	env := map[string]map[string]any{}
	for _, e := range yget(t, c, "env").([]any) {
		m := e.(map[string]any)
		env[m["name"].(string)] = m
	}
	if _, ok := env["JOB_COMPLETION_INDEX"]; !ok {
		t.Error("JOB_COMPLETION_INDEX is not used")
	}
	for _, name := range []string{"LAYERSCAN_DB", "LAYERSCAN_FINGERPRINT_KEY"} {
		if ref, _ := yget(t, env[name], "valueFrom", "secretKeyRef").(map[string]any); ref == nil || ref["name"] == nil {
			t.Errorf("%s does not come from a Secret", name)
		}
	}
	if !strings.Contains(yget(t, env["LAYERSCAN_RUN"], "valueFrom", "fieldRef", "fieldPath").(string), "job-name") {
		t.Error("LAYERSCAN_RUN is not the Job's name")
	}
	dockerDir, _ := yget(t, env["DOCKER_CONFIG"], "value").(string)
	mounted := map[string]string{}
	for _, m := range yget(t, c, "volumeMounts").([]any) {
		mm := m.(map[string]any)
		mounted[mm["name"].(string)] = mm["mountPath"].(string)
	}
	found := false
	for _, v := range yget(t, pod, "volumes").([]any) {
		vm := v.(map[string]any)
		sec, ok := vm["secret"].(map[string]any)
		if !ok || mounted[vm["name"].(string)] != dockerDir {
			continue
		}
		for _, it := range sec["items"].([]any) {
			im := it.(map[string]any)
			if im["key"] == ".dockerconfigjson" && im["path"] == "config.json" {
				found = true
			}
		}
	}
	if !found || dockerDir == "" {
		t.Error("no Secret volume with the registry's docker config.json at $DOCKER_CONFIG")
	}
	for _, k := range []string{"requests", "limits"} {
		r, _ := yget(t, c, "resources", k).(map[string]any)
		if r["cpu"] == nil || r["memory"] == nil {
			t.Errorf("resources.%s: cpu and memory not set", k)
		}
	}

	rep := readYAMLDocs(t, filepath.Join(dir, "report-cronjob.yaml"))
	if len(rep) != 1 || rep[0]["kind"] != "CronJob" {
		t.Fatal("report-cronjob.yaml: want a CronJob")
	}
	rc := yget(t, rep[0], "spec", "jobTemplate", "spec", "template", "spec", "containers", 0)
	if a := yget(t, rc, "args").([]any); a[0] != "report" {
		t.Errorf("report step runs %v", a)
	}
	if yget(t, rep[0], "spec", "jobTemplate", "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Error("report step: runAsNonRoot not set")
	}
	for _, d := range readYAMLDocs(t, filepath.Join(dir, "secrets.example.yaml")) {
		if d["kind"] != "Secret" {
			t.Errorf("secrets.example.yaml: %v", d["kind"])
		}
	}
	// The README explains sizing.
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil || !strings.Contains(string(b), "How many shards") {
		t.Errorf("deploy/kubernetes/README.md: no sizing section (%v)", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// layerscan's own image, built with buildah and scanned by layerscan:
// nothing found. The real deploy/Dockerfile's build stage needs the golang
// image, which cannot be pulled on the test machines: the test builds the
// same static binary on the host and uses deploy/test/Containerfile, whose
// final stage is deploy/Dockerfile's.
func TestDeployImage(t *testing.T) {
	root := repoRoot(t)
	df, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := os.ReadFile(filepath.Join(root, "deploy", "test", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	d := string(df)
	if strings.Count(d, "\nFROM ") < 2 || !strings.Contains(d, "CGO_ENABLED=0") || !strings.Contains(d, "-tags gore2regex") || !strings.Contains(d, "\nFROM scratch") {
		t.Error("deploy/Dockerfile: want a multi-stage build of a static binary (CGO_ENABLED=0, -tags gore2regex) onto scratch")
	}
	finalStage := func(s string) []string {
		s = s[strings.LastIndex(s, "\nFROM "):]
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "USER ") || strings.HasPrefix(l, "ENTRYPOINT ") || strings.HasPrefix(l, "ENV ") {
				out = append(out, l)
			}
		}
		return out
	}
	if a, b := finalStage(d), finalStage(string(tf)); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) != 3 {
		t.Errorf("final stages differ:\n%q\n%q", a, b)
	}
	if !strings.Contains(d, "USER 65532:65532") {
		t.Error("deploy/Dockerfile: not a non-root user")
	}
	testenv.RequireTool(t, "buildah")

	ctx := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-tags", "gore2regex", "-ldflags", "-s -w -X main.version=deploy-test", "-o", filepath.Join(ctx, "layerscan"), "./cmd/layerscan")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command("file", filepath.Join(ctx, "layerscan")).CombinedOutput(); len(out) > 0 && !strings.Contains(string(out), "statically linked") && !strings.Contains(string(out), "static-pie") {
		t.Errorf("not a static binary: %s", out)
	}
	ca := "/etc/ssl/certs/ca-certificates.crt"
	caBytes, err := os.ReadFile(ca)
	if err != nil {
		caBytes = []byte{} // an empty bundle still tests the layout
	}
	os.WriteFile(filepath.Join(ctx, "ca-certificates.crt"), caBytes, 0o644)
	os.WriteFile(filepath.Join(ctx, "passwd"), []byte("layerscan:x:65532:65532:layerscan:/tmp:/sbin/nologin\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "group"), []byte("layerscan:x:65532:\n"), 0o644)
	os.Mkdir(filepath.Join(ctx, "tmp"), 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), tf, 0o644)

	store := t.TempDir()
	bah := []string{"--root", filepath.Join(store, "storage"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}
	tag := "localhost/layerscan-deploy-test:latest"
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("buildah", append(bah, args...)...)
		cmd.Dir = ctx
		cmd.Env = append(os.Environ(), "TMPDIR="+store)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("bud", "--isolation", "chroot", "--pull=never", "-f", "Containerfile", "-t", tag, ".")
	archive := filepath.Join(store, "layerscan.oci.tar")
	run("push", "--quiet", tag, "oci-archive:"+archive+":"+tag)

	scan := func(extra ...string) *report.Image {
		t.Helper()
		r := runCLI(t, nil, append([]string{"scan", "oci-archive:" + archive, "--format", "json", "--exit-code", "0"}, extra...)...)
		if r.code != 0 {
			t.Fatalf("scanning layerscan's image: exit %d\n%s", r.code, r.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Images) != 1 || len(rep.Images[0].Errors) != 0 {
			t.Fatalf("layerscan's image: %+v", rep.Images)
		}
		return rep.Images[0]
	}
	// Nothing in any layer or in the config — the layerscan binary
	// included, scanned as strings like every binary (the rule samples
	// live in pkg/detect's test files, not in the binary).
	if im := scan(); len(im.Findings) != 0 {
		t.Errorf("layerscan's image: %d findings, want none: %+v", len(im.Findings), im.Findings)
	}
	// The image runs as documented (README, Install): its layerscan
	// prints the version, with the RE2 engine.
	ctr, err := exec.Command("buildah", append(bah, "from", "--pull=never", tag)...).Output()
	if err != nil {
		t.Fatalf("buildah from: %v", err)
	}
	ver := exec.Command("buildah", append(bah, "run", "--isolation", "chroot", strings.TrimSpace(string(ctr)), "--", "/usr/local/bin/layerscan", "--version")...)
	ver.Env = append(os.Environ(), "TMPDIR="+store)
	if out, err := ver.CombinedOutput(); err != nil || !strings.Contains(string(out), "layerscan deploy-test") || !strings.Contains(string(out), "regexp engine: RE2") {
		t.Errorf("layerscan --version in its image: %v\n%s", err, out)
	}
	cfg := exec.Command("buildah", append(bah, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}}", tag)...)
	if out, err := cfg.Output(); err != nil || strings.TrimSpace(string(out)) != "65532:65532" {
		t.Errorf("image user %q (%v), want 65532:65532", out, err)
	}
}
