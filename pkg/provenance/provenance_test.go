package provenance

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/walk"
)

func md5hex(s string) string  { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func sha1hex(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// digests is what the walk computes of content.
func digests(content string) *walk.Digests {
	d := walk.DigestsOf([]byte(content))
	return &d
}

func TestClassify(t *testing.T) {
	for p, want := range map[string]Kind{
		"/var/lib/dpkg/status":                                            DpkgStatus,
		"/var/lib/dpkg/status-old":                                        None,
		"/var/lib/dpkg/info/libc6:amd64.md5sums":                          DpkgMD5Sums,
		"/var/lib/dpkg/info/libc6:amd64.list":                             None,
		"/var/lib/dpkg/status.d/base-files":                               DpkgStatus,
		"/var/lib/dpkg/status.d/base-files.md5sums":                       DpkgMD5Sums,
		"/lib/apk/db/installed":                                           ApkInstalled,
		"/var/lib/rpm/rpmdb.sqlite":                                       RPMSQLite,
		"/usr/lib/sysimage/rpm/rpmdb.sqlite":                              RPMSQLite,
		"/tmp/rpmdb.sqlite":                                               None,
		"/usr/lib/python3/site-packages/requests-2.31.0.dist-info/RECORD": PythonRecord,
		"/app/node_modules/express/package.json":                          NpmPackageJSON,
		"/app/node_modules/@acme/config/package.json":                     NpmPackageJSON,
		"/app/node_modules/express/lib/package.json":                      None,
		"/app/package.json":                                               None,
		"/app/node_modules/.package-lock.json":                            None,
		"/var/lib/gems/3.1.0/specifications/rack-2.2.4.gemspec":           Gemspec,
		"/root/.m2/repository/org/x/a/1.0/a-1.0.jar.sha1":                 MavenSHA1,
		"/srv/a-1.0.jar.sha1":                                             None,
	} {
		if got := Classify(p); got != want {
			t.Errorf("Classify(%s) = %d, want %d", p, got, want)
		}
	}
}

// index parses files (path → content) as one layer and builds an Index.
func index(t *testing.T, layers ...map[string]string) *Index {
	t.Helper()
	var recs []*Records
	for _, files := range layers {
		r := &Records{}
		for p, content := range files {
			k := Classify(p)
			if k == None {
				t.Fatalf("%s is not a package database", p)
			}
			r.Merge(Parse(k, p, []byte(content)))
		}
		recs = append(recs, r)
	}
	return NewIndex(recs)
}

func TestDpkg(t *testing.T) {
	const doc = "Example: https://user:V3ry_S3nsit1ve@example.com/\n"
	const conf = "# shipped\nlisten = 80\n"
	status := `Package: libruby3.1
Status: install ok installed
Architecture: amd64
Version: 3.1.2-7+deb12u1
Description: Libraries necessary to run Ruby 3.1
 Multi-line description.

Package: acme-agent
Status: install ok installed
Version: 1.4.2
Conffiles:
 /etc/acme/agent.conf ` + md5hex(conf) + `
 /etc/acme/old.conf 00000000000000000000000000000000 obsolete
Description: internal
`
	md5sums := md5hex(doc) + "  usr/lib/ruby/3.1.0/uri/generic.rb\n" + "zzz  not/a/line\n"
	// The database and the files may be in different layers, either way.
	ix := index(t,
		map[string]string{"/var/lib/dpkg/info/libruby3.1:amd64.md5sums": md5sums},
		map[string]string{"/var/lib/dpkg/status": status},
	)
	for _, c := range []struct {
		path    string
		content string
		want    Origin
	}{
		{"/usr/lib/ruby/3.1.0/uri/generic.rb", doc, Origin{Type: TypePackage, Manager: Dpkg, Name: "libruby3.1", Version: "3.1.2-7+deb12u1", VerifiedBy: ByDigest}},
		{"/usr/lib/ruby/3.1.0/uri/generic.rb", doc + "password = hunter22\n", Origin{Type: TypeImage, Manager: Dpkg, Name: "libruby3.1", Version: "3.1.2-7+deb12u1", Modified: true}},
		{"/etc/acme/agent.conf", conf, Origin{Type: TypePackage, Manager: Dpkg, Name: "acme-agent", Version: "1.4.2", VerifiedBy: ByDigest}},
		{"/etc/acme/agent.conf", conf + "db_password = x\n", Origin{Type: TypeImage, Manager: Dpkg, Name: "acme-agent", Version: "1.4.2", Modified: true}},
		{"/app/secrets.env", "TOKEN=x\n", Origin{Type: TypeImage}},
		// dpkg's own records of a package are the package's.
		{"/var/lib/dpkg/info/acme-agent.postinst", "#!/bin/sh\n", Origin{Type: TypePackage, Manager: Dpkg, Name: "acme-agent", Version: "1.4.2", VerifiedBy: ByLocation}},
		{"/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", "Package: x\n", Origin{Type: TypePackage, Manager: "apt", Name: "package-lists", VerifiedBy: ByLocation}},
	} {
		if got := ix.Lookup(c.path, nil, digests(c.content)); got != c.want {
			t.Errorf("%s (%q):\n got %+v\nwant %+v", c.path, c.content, got, c.want)
		}
	}
	// Not hashed (a binary read as strings): placed by location.
	if got := ix.Lookup("/usr/lib/ruby/3.1.0/uri/generic.rb", nil, nil); got.Type != TypePackage || got.VerifiedBy != ByLocation {
		t.Errorf("unhashed package file: %+v", got)
	}
}

func TestApk(t *testing.T) {
	const conf = "export PATH=/usr/bin\n"
	sum := sha1.Sum([]byte(conf))
	installed := "C:Q1abc=\nP:alpine-baselayout\nV:3.4.3-r1\nA:x86_64\nF:etc\nR:profile\nZ:Q1" + base64.StdEncoding.EncodeToString(sum[:]) +
		"\nR:motd\nZ:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nP:busybox\nV:1.36.1-r5\nF:bin\nR:busybox\n"
	ix := index(t, map[string]string{"/lib/apk/db/installed": installed})
	want := Origin{Type: TypePackage, Manager: Apk, Name: "alpine-baselayout", Version: "3.4.3-r1", VerifiedBy: ByDigest}
	if got := ix.Lookup("/etc/profile", nil, digests(conf)); got != want {
		t.Errorf("apk file: %+v, want %+v", got, want)
	}
	if got := ix.Lookup("/etc/motd", nil, digests("changed\n")); !got.Modified || got.Name != "alpine-baselayout" {
		t.Errorf("modified apk file: %+v", got)
	}
	if got := ix.Lookup("/bin/busybox", nil, digests("\x7fELF")); got.Type != TypePackage || got.VerifiedBy != ByLocation || got.Name != "busybox" {
		t.Errorf("apk file without a digest: %+v", got)
	}
}

func TestPythonRecord(t *testing.T) {
	const mod = "API_KEY = 'from the docs'\n"
	sum := sha256.Sum256([]byte(mod))
	record := "requests/__init__.py,sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]) + ",27\n" +
		"\"requests/odd, name.py\",sha256=AAAA,1\n" +
		"../../../bin/requests-cli,,\n" +
		"requests-2.31.0.dist-info/RECORD,,\n"
	ix := index(t, map[string]string{"/opt/venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/RECORD": record})
	want := Origin{Type: TypePackage, Manager: Python, Name: "requests", Version: "2.31.0", VerifiedBy: ByDigest}
	if got := ix.Lookup("/opt/venv/lib/python3.11/site-packages/requests/__init__.py", nil, digests(mod)); got != want {
		t.Errorf("RECORD file: %+v, want %+v", got, want)
	}
	if got := ix.Lookup("/opt/venv/bin/requests-cli", nil, digests("#!python\n")); got.Name != "requests" || got.VerifiedBy != ByLocation {
		t.Errorf("script outside site-packages: %+v", got)
	}
	// Bytecode compiled from a packaged module is the package's.
	if got := ix.Lookup("/opt/venv/lib/python3.11/site-packages/requests/__pycache__/__init__.cpython-311.pyc", nil, nil); got.Name != "requests" {
		t.Errorf("pyc of a packaged module: %+v", got)
	}
	if got := ix.Lookup("/app/__pycache__/settings.cpython-311.pyc", nil, nil); got.Type != TypeImage {
		t.Errorf("pyc of the app's own module: %+v", got)
	}
}

func TestNpmGemGoMaven(t *testing.T) {
	ix := index(t, map[string]string{
		"/app/node_modules/aws-sdk/package.json":                                           `{"name": "aws-sdk", "version": "2.1693.0"}`,
		"/app/node_modules/aws-sdk/node_modules/uuid/package.json":                         `{"name": "uuid", "version": "8.0.0"}`,
		"/app/node_modules/@acme/config/package.json":                                      `{"name": "@acme/config", "version": "2.0.1"}`,
		"/var/lib/gems/3.1.0/specifications/aws-sdk-s3-1.117.2.gemspec":                    "Gem::Specification.new",
		"/root/.m2/repository/io/netty/netty-handler/4.1.48/netty-handler-4.1.48.jar.sha1": sha1hex("jar bytes") + "  netty-handler-4.1.48.jar\n",
	})
	for _, c := range []struct {
		path  string
		chain []string
		d     *walk.Digests
		want  string // "type manager name version verified_by"
	}{
		{"/app/node_modules/aws-sdk/apis/s3.examples.json", nil, nil, "package npm aws-sdk 2.1693.0 location"},
		{"/app/node_modules/aws-sdk/node_modules/uuid/index.js", nil, nil, "package npm uuid 8.0.0 location"},
		{"/app/node_modules/@acme/config/index.js", nil, nil, "package npm @acme/config 2.0.1 location"},
		{"/app/node_modules/left-pad/index.js", nil, nil, "image"}, // no package.json: not placed
		{"/app/src/index.js", nil, nil, "image"},
		{"/var/lib/gems/3.1.0/gems/aws-sdk-s3-1.117.2/lib/aws-sdk-s3/client.rb", nil, nil, "package gem aws-sdk-s3 1.117.2 location"},
		{"/root/go/pkg/mod/github.com/!burnt!sushi/toml@v1.3.2/decode.go", nil, nil, "package go github.com/BurntSushi/toml v1.3.2 location"},
		{"/root/.m2/repository/io/netty/netty-handler/4.1.48/netty-handler-4.1.48.jar", []string{"io/netty/X.class"}, digests("jar bytes"), "package maven io.netty:netty-handler 4.1.48 digest"},
		{"/root/.m2/repository/io/netty/netty-handler/4.1.48/netty-handler-4.1.48.jar", nil, digests("rebuilt"), "image modified"},
		{"/root/.m2/repository/org/x/lib/1.0/lib-1.0.jar", nil, nil, "package maven org.x:lib 1.0 location"},
		{"/home/u/.gradle/caches/modules-2/files-2.1/com.google.guava/guava/31.1-jre/" + sha1hex("g") + "/guava-31.1-jre.jar", nil, digests("g"), "package maven com.google.guava:guava 31.1-jre digest"},
		{"/app/app.jar", []string{"BOOT-INF/lib/jackson-databind-2.14.0.jar", "x.properties"}, nil, "package maven jackson-databind 2.14.0 location"},
		{"/app/app.jar", []string{"BOOT-INF/classes/application.properties"}, nil, "image"},
	} {
		o := ix.Lookup(c.path, c.chain, c.d)
		got := o.Type
		if o.Type == TypePackage {
			got = strings.Join([]string{o.Type, o.Manager, o.Name, o.Version, o.VerifiedBy}, " ")
		} else if o.Modified {
			got += " modified"
		}
		if got != c.want {
			t.Errorf("%s %v: %q, want %q", c.path, c.chain, got, c.want)
		}
	}
}

// TestRPMSQLite reads an rpmdb.sqlite written by a real rpm (Debian's rpm
// 4.18, sqlite backend) after installing a package built by rpmbuild.
func TestRPMSQLite(t *testing.T) {
	testenv.RequireTool(t, "rpm")
	testenv.RequireTool(t, "rpmbuild")
	dir := t.TempDir()
	for _, d := range []string{"SPECS", "RPMS", "BUILD", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := `Name: acme-tool
Version: 2.3.4
Release: 1
Epoch: 1
Summary: internal tool
License: MIT
BuildArch: noarch
%description
For layerscan's tests.
%install
mkdir -p %{buildroot}/etc/acme %{buildroot}/usr/share/acme
printf 'token = 1\n' > %{buildroot}/etc/acme/tool.conf
printf 'hello\n' > %{buildroot}/usr/share/acme/data.txt
%files
%config(noreplace) /etc/acme/tool.conf
/usr/share/acme/data.txt
`
	if err := os.WriteFile(filepath.Join(dir, "SPECS", "acme.spec"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("rpmbuild", "--define", "_topdir "+dir, "--define", "_db_backend sqlite", "-bb", filepath.Join(dir, "SPECS", "acme.spec"))
	root := filepath.Join(dir, "root")
	rpms, _ := filepath.Glob(filepath.Join(dir, "RPMS", "noarch", "*.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild made %v", rpms)
	}
	run("rpm", "--define", "_db_backend sqlite", "--root", root, "--dbpath", "/var/lib/rpm", "--initdb")
	run("rpm", "--define", "_db_backend sqlite", "--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps", rpms[0])
	db, err := os.ReadFile(filepath.Join(root, "var", "lib", "rpm", "rpmdb.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	r := Parse(RPMSQLite, "/var/lib/rpm/rpmdb.sqlite", db)
	if len(r.Warnings) > 0 {
		t.Fatalf("warnings: %v", r.Warnings)
	}
	ix := NewIndex([]*Records{r})
	want := Origin{Type: TypePackage, Manager: RPM, Name: "acme-tool", Version: "1:2.3.4-1", VerifiedBy: ByDigest}
	if got := ix.Lookup("/usr/share/acme/data.txt", nil, digests("hello\n")); got != want {
		t.Errorf("rpm file: %+v, want %+v", got, want)
	}
	if got := ix.Lookup("/etc/acme/tool.conf", nil, digests("token = 1\npassword = x\n")); !got.Modified || got.Name != "acme-tool" {
		t.Errorf("edited rpm config: %+v", got)
	}
}

// TestHostileDatabases: broken or oversized databases give warnings and
// no records, never a panic or an error that stops the scan.
func TestHostileDatabases(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		path string
		data []byte
	}{
		{RPMSQLite, "/var/lib/rpm/rpmdb.sqlite", []byte("not a database")},
		{NpmPackageJSON, "/a/node_modules/x/package.json", []byte("{")},
		{MavenSHA1, "/r/.m2/repository/a/b/1/b-1.jar.sha1", []byte("nothex")},
		{DpkgStatus, "/var/lib/dpkg/status", make([]byte, MaxDatabaseSize+1)},
	} {
		r := Parse(c.kind, c.path, c.data)
		if len(r.Warnings) == 0 || len(r.Files) > 0 {
			t.Errorf("%s: warnings %v, %d files", c.path, r.Warnings, len(r.Files))
		}
	}
	// RPM header blobs: truncated, lengths out of range, unterminated strings.
	for _, blob := range [][]byte{nil, {0, 0, 0, 1}, {0, 0, 0xff, 0xff, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 0xe8, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 'b', 'c', 'd'}} {
		r := &Records{}
		if err := addRPMHeader(r, blob); err == nil && len(r.Packages) > 0 {
			t.Errorf("header %v: %+v", blob, r.Packages)
		}
	}
}

// TestRecordsRoundTrip: Records are cached with a layer's result as JSON
// (sweeps), and an index built from the decoded copy answers the same.
func TestRecordsRoundTrip(t *testing.T) {
	r := Parse(DpkgMD5Sums, "/var/lib/dpkg/info/x.md5sums", []byte(md5hex("a")+"  usr/bin/a\n"))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Records
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := NewIndex([]*Records{&back}).Lookup("/usr/bin/a", nil, digests("a"))
	if got.Type != TypePackage || got.Name != "x" || got.VerifiedBy != ByDigest {
		t.Errorf("after a JSON round trip: %+v", got)
	}
}
