package history

import (
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		createdBy string
		want      string
		args      []Arg
	}{
		// Docker legacy builder and buildah.
		{"/bin/sh -c #(nop) COPY file:4c0973905b18 in /app/suid.txt ", "COPY file:4c0973905b18 /app/suid.txt", nil},
		{"/bin/sh -c #(nop) ADD file:ce026b62356e in / ", "ADD file:ce026b62356e /", nil},
		{"/bin/sh -c #(nop) COPY dir:7ec14b81 in a      ", "COPY dir:7ec14b81 a", nil},
		{"/bin/sh -c #(nop)  ENV SOME_USER=gguser", "ENV SOME_USER=gguser", nil},
		{"/bin/sh -c #(nop)  CMD [\"sh\"]", "CMD [\"sh\"]", nil},
		{"/bin/sh -c #(nop) WORKDIR /app", "WORKDIR /app", nil},
		{"/bin/sh -c mkdir -p /root/example/really/nested", "RUN mkdir -p /root/example/really/nested", nil},
		{"|1 TOKEN=glpat-abc /bin/sh -c make build", "RUN make build", []Arg{{"TOKEN", "glpat-abc"}}},
		{"|2 A=1 B=two words /bin/sh -c echo $A", "RUN echo $A", []Arg{{"A", "1"}, {"B", "two words"}}},
		{"/bin/bash -o pipefail -c curl -fsS x | sh", "RUN curl -fsS x | sh", nil},
		// BuildKit.
		{"RUN /bin/sh -c rm /node # buildkit", "RUN rm /node", nil},
		{"RUN |1 TOKEN=x /bin/sh -c make # buildkit", "RUN make", []Arg{{"TOKEN", "x"}}},
		{"COPY node / # buildkit", "COPY node /", nil},
		{"WORKDIR /goof", "WORKDIR /goof", nil},
		{"ENTRYPOINT [\"npm\" \"start\"]", "ENTRYPOINT [\"npm\" \"start\"]", nil},
		// kaniko and hand-written history.
		{"RUN apt-get update", "RUN apt-get update", nil},
		{"bazel build //app:image", "bazel build //app:image", nil},
		{"", "", nil},
		{"   ", "", nil},
		// A RUN whose shell flags carry a secret mount (buildah keeps them).
		{"/bin/sh -c --mount=type=secret,id=s cat /run/secrets/s > /app/s.json", "RUN --mount=type=secret,id=s cat /run/secrets/s > /app/s.json", nil},
		// Windows images.
		{"cmd /S /C echo hi", "RUN echo hi", nil},
	}
	for _, tt := range tests {
		got, args := Normalize(tt.createdBy)
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.createdBy, got, tt.want)
		}
		if !reflect.DeepEqual(args, tt.args) {
			t.Errorf("Normalize(%q) args = %+v, want %+v", tt.createdBy, args, tt.args)
		}
	}
}
