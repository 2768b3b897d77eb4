// Command benchreg writes a benchmark registry (package
// internal/benchreg) into a directory that docker-registry's filesystem
// storage driver then serves (storage.filesystem.rootdirectory):
//
//	go run ./internal/benchreg/cmd -dir /tmp/reg -images 100000 -tags-per-repo 50
//
// It prints what it wrote (repositories, images, blob bytes, time taken).
package main
