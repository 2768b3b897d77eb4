#!/usr/bin/env bash
# Installs staticcheck (make lint) into .cache/bin: a pinned release built
# from the Go module proxy, when it is missing or another version.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=v0.8.2
bin=$root/.cache/bin/staticcheck
if [ -x "$bin" ] && "$bin" -version 2>/dev/null | grep -q "(${version#v})"; then
	exit 0
fi
echo "installing staticcheck $version into .cache/bin"
GOBIN=$root/.cache/bin GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$version"
