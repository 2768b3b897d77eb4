package detect

import (
	"path"
	"regexp"
	"strings"
)

// HighConfidence tells whether rule matches a credential format
// distinctive enough to stand on its own (a fixed-prefix token, a private
// key, an AWS key id): the rules checked in the strings of binaries, and
// the ones reported even in vendor content.
func HighConfidence(rule string) bool { return highConfidence[rule] }

// docTestDir are directory names that hold documentation, examples and
// tests: what packages ship beside their code, full of sample
// credentials and test vectors.
var docTestDir = map[string]bool{
	"test": true, "tests": true, "testing": true, "testdata": true, "test-data": true, "__tests__": true,
	"spec": true, "specs": true, "fixture": true, "fixtures": true, "__fixtures__": true, "__mocks__": true,
	"mock": true, "mocks": true, "example": true, "examples": true, "sample": true, "samples": true,
	"demo": true, "demos": true, "doc": true, "docs": true, "documentation": true, "man": true,
	"t": false, // perl's t/ is tests, but too short to trust alone
}

// docTestFile are file names that are documentation or tests whatever
// their directory.
var docTestFile = regexp.MustCompile(`(?i)^(?:readme|changelog|changes|history|news|contributing|authors|faq|upgrading|migration)(?:[._-].*)?$|\.(?:md|markdown|rst|adoc|asciidoc|[1-9]|[1-9]\.gz|pod|rdoc|texi)$|(?:^test_.*\.py|_test\.(?:go|py|rb)|_spec\.rb|\.(?:test|spec)\.(?:[cm]?[jt]sx?))$|\.examples?\.json$`)

// DocOrTestPath tells whether p (a path in the image, with "!/" before
// archive members) is documentation, an example or a test by its name or
// one of its directories: README, CHANGELOG, *.md, man pages, docs/,
// examples/, test/, spec/, fixtures/, *_test.go, *.spec.js…
func DocOrTestPath(p string) bool {
	p = strings.ReplaceAll(p, "!/", "/")
	if docTestFile.MatchString(path.Base(p)) {
		return true
	}
	for _, part := range strings.Split(strings.ToLower(path.Dir(p)), "/") {
		if docTestDir[part] {
			return true
		}
	}
	return strings.HasPrefix(p, "/usr/share/doc/") || strings.HasPrefix(p, "/usr/share/man/")
}
