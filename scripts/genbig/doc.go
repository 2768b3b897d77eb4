// Command genbig writes large synthetic container images for
// scripts/bench-rss.sh, which measures layerscan's peak RSS on them, and
// checks layerscan's JSON report against the secrets it planted.
//
//	genbig gen -o IMAGE.oci.tar [-layers N] [-layer-mb M] [-secrets K] [-seed S]
//	genbig check -planted IMAGE.oci.tar.planted.json -report REPORT.json
//
// gen streams every layer (tar → gzip at the fastest level → file, hashing
// both sides on the way, generator and compressor on two goroutines), so its
// memory stays small whatever -layer-mb is, then writes an OCI archive (a tar
// of an OCI image layout). The layers hold what a secret scanner meets in
// real images: config, .env, log and source-like text full of key=value
// pairs, base64 blobs (YAML binaryData, PEM-like certificates), ELF-like
// and other binary files with string tables, gzip-compressed text and jar
// (zip) archives. Fake secrets of five gitleaks rules, made at random from
// -seed (no literal secret is in this file), are planted in every kind of
// carrier. With several layers, each later layer deletes files (whiteouts,
// directory whiteouts, opaque directories) and overwrites others, planted
// ones included, so that layerscan's lifecycle tracking has state to hold.
// The planted secrets, with the layer, path, line and final status layerscan
// should report, go to IMAGE.planted.json (-planted); gen prints one line of
// counts (key=value).
//
// check matches a layerscan -f json report against the planted list by
// rule, layer, path, archive member and line, and prints one line of counts:
// planted, found, found with the expected status, other findings, and the
// report's stats. Missing and mismatched secrets are listed on stderr.
package main
