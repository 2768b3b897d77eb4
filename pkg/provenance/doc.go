// Package provenance works out, from an image's own package databases and
// with no network, whose content a file is: vendor content of a package, or
// the image builder's.
//
// A security team reads layerscan's output for the secrets the image's
// builder leaked; documentation examples, test vectors and sample configs
// that packages ship are another matter. The package managers record what
// they installed, and an image carries those records:
//
//   - dpkg: /var/lib/dpkg/status (packages, versions, conffiles with their
//     MD5) and /var/lib/dpkg/info/NAME.md5sums (the MD5 of every other
//     file); distroless's /var/lib/dpkg/status.d/ too.
//   - apk: /lib/apk/db/installed (files with the SHA-1 of each, Z:Q1…).
//   - rpm: the rpmdb as the image holds it, rpmdb.sqlite (read with the
//     pure-Go SQLite driver; file digests of the header's algorithm).
//   - Python: site-packages/*.dist-info/RECORD (SHA-256 of each file).
//   - Maven: ~/.m2/repository/…/A-V.jar with the A-V.jar.sha1 Maven wrote;
//     Gradle's cache names each file by its SHA-1.
//   - By location only, where no per-file digest exists: npm
//     (node_modules/NAME/package.json names the package and version),
//     RubyGems (specifications/NAME-VERSION.gemspec owns gems/NAME-VERSION/),
//     the Go module cache (pkg/mod/MODULE@VERSION/), jars under a Maven
//     repository, and the libraries nested in a Spring Boot or WAR archive
//     (BOOT-INF/lib/, WEB-INF/lib/).
//
// Reading is split the way a layer cache needs it: Parse turns one
// package-database file of one layer into Records (which depend only on
// that file, so they are cached with the layer's scan result), and
// NewIndex joins the Records of every layer of one image, whatever layer
// holds the database and whatever layer holds the file, before or after.
// Index.Lookup then names a file's Origin from its path and the digests
// the walk computed of its bytes: a package's file whose bytes match the
// recorded digest is vendor content verified by digest; one whose bytes
// differ (an edited /etc config) is modified, hence the builder's; a file
// under a package's directory with no digest to compare is vendor content
// by location.
package provenance
