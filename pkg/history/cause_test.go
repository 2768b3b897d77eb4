package history

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		f    Facts
		want Cause
	}{
		{Facts{Source: "file", Path: "/app/s.txt", Status: Deleted, InBase: true}, InheritedFromBase},
		{Facts{Source: "history", Instruction: "ENV A=b", InBase: true}, InheritedFromBase},
		{Facts{Source: "file", Path: "/app/.git/config", Status: Deleted, Instruction: "COPY dir:x /app/"}, RemovedInLaterLayer},
		{Facts{Source: "file", Path: "/app/c.env", Status: Overwritten, Instruction: "COPY file:x /app/"}, OverwrittenInLaterLayer},
		{Facts{Source: "file", Path: "/app/.git/config", Status: Present, Instruction: "COPY dir:x /app/"}, VCSMetadata},
		{Facts{Source: "file", Path: "/root/.bash_history", Status: Present, Instruction: "RUN x"}, ShellHistory},
		{Facts{Source: "file", Path: "/root/.docker/config.json", Status: Present, Instruction: "RUN --mount=type=secret,id=s docker login", CreatedBy: "/bin/sh -c --mount=type=secret,id=s docker login"}, CredentialStore},
		{Facts{Source: "file", Path: "/root/.npmrc", Status: Present, Instruction: "COPY file:x /root/"}, CopiedIntoImage},
		{Facts{Source: "file", Path: "/app/s.json", Status: Present, Instruction: "RUN cat /run/secrets/s > /app/s.json"}, SecretMountPersisted},
		{Facts{Source: "file", Path: "/app/s.json", Status: Present, Instruction: "RUN x", CreatedBy: "RUN --mount=type=cache,target=/c --mount=id=s,type=secret x # buildkit"}, SecretMountPersisted},
		{Facts{Source: "file", Path: "/app/s.txt", Status: Present, Instruction: "ADD https://x /app/"}, CopiedIntoImage},
		{Facts{Source: "file", Path: "/app/s.txt", Status: Present, Instruction: "RUN echo x > /app/s.txt"}, WrittenByRun},
		{Facts{Source: "history", Instruction: "RUN make", InBuildArg: true}, BuildArgInHistory},
		{Facts{Source: "history", Instruction: "ENV K=v"}, EnvInConfig},
		{Facts{Source: "history", Instruction: "LABEL k=v"}, LabelInConfig},
		{Facts{Source: "history", Instruction: "RUN curl -u u:p https://x"}, CommandInHistory},
		{Facts{Source: "config", Field: "Env K"}, EnvInConfig},
		{Facts{Source: "config", Field: "Labels k"}, LabelInConfig},
		{Facts{Source: "config", Field: "Cmd"}, CommandInConfig},
	} {
		if got := Classify(tc.f); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.f, got, tc.want)
		}
	}
	for _, c := range Causes {
		if Remediation(c, nil) == "" {
			t.Errorf("%s has no remediation", c)
		}
	}
	if r := Remediation(InheritedFromBase, &Base{Name: "corp/golden:1"}); r == Remediation(InheritedFromBase, nil) {
		t.Errorf("inherited remediation does not name the base: %q", r)
	}
}

func TestFindBase(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []Step{
		{Index: 0, Layer: 0, Created: t0},
		{Index: 1, Layer: -1, Created: t0, Comment: "FROM 5f5f0d4085c5"},
		{Index: 2, Layer: 1, Created: t0, Comment: "FROM localhost/base:latest"},
		{Index: 3, Layer: 2, Created: t0, Comment: "FROM localhost/mid:latest"},
		{Index: 4, Layer: 3, Created: t0.Add(48 * time.Hour), Comment: "FROM 12a12a2f5a48"},
	}
	ann := map[string]string{AnnotationBaseName: "localhost/mid:latest", AnnotationBaseDigest: "sha256:ab"}
	if b := FindBase(ann, steps); b.Source != BaseFromAnnotation || b.LastHistoryIndex != 2 || b.Layers != 2 || !b.HasLayer(1) || b.HasLayer(2) {
		t.Errorf("annotation: %+v", b)
	}
	if b := FindBase(nil, steps); b.Source != BaseFromComment || b.LastHistoryIndex != 2 || b.Name != "localhost/mid:latest" {
		t.Errorf("comment: %+v", b)
	}
	for i := range steps {
		steps[i].Comment = ""
	}
	if b := FindBase(nil, steps); b.Source != BaseFromTimeGap || b.LastHistoryIndex != 3 || b.Layers != 3 {
		t.Errorf("time gap: %+v", b)
	}
	if b := FindBase(nil, steps[:4]); b != nil {
		t.Errorf("nothing known: %+v", b)
	}
}
