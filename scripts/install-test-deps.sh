#!/usr/bin/env bash
# Installs what layerscan's tests use, when it is missing:
#   Debian packages: buildah and skopeo (build and copy real images), podman
#   (its API service is the real engine of the docker:/podman: source tests,
#   on a store of its own under a temporary directory), rpm
#   (rpmbuild and an rpmdb.sqlite for the provenance tests),
#   docker-registry (a real registry), busybox-static (the base of the test
#   images), chromium (the HTML report's browser tests, headless),
#   postgresql (the shared store's tests start their own server from its
#   binaries; the package's own cluster is not used);
#   for pkg/verify's tests against real services (each started by the tests
#   on a temporary directory and port, never the package's own service):
#   mariadb-server, redis-server, lighttpd and git (git-http-backend behind
#   lighttpd);
#   from npm: Microsoft's SARIF Multitool (a real SARIF consumer), into
#   .cache/sarif-multitool, and the verdaccio npm registry (pkg/verify's npm
#   tests), into .cache/verdaccio.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi

need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v rpmbuild >/dev/null 2>&1 || need+=(rpm)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
command -v npm >/dev/null 2>&1 || need+=(npm)
# Servers live in sbin, which may not be on a user's PATH.
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
has mariadbd && has mariadb-install-db || need+=(mariadb-server)
has redis-server || need+=(redis-server)
has lighttpd || need+=(lighttpd)
if ! command -v git >/dev/null 2>&1 || [ ! -x /usr/lib/git-core/git-http-backend ]; then need+=(git); fi
if [ ${#need[@]} -gt 0 ]; then
	echo "installing Debian packages: ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

multitool_version=5.7.0
mt=$root/.cache/sarif-multitool
bin=$mt/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [ ! -f "$bin" ]; then
	echo "installing @microsoft/sarif-multitool@$multitool_version from npm into .cache/sarif-multitool"
	mkdir -p "$mt"
	(cd "$mt" && npm install --silent --no-audit --no-fund --no-save "@microsoft/sarif-multitool@$multitool_version" >/dev/null)
fi
# npm does not run the package's install script: make the binary executable.
chmod u+x "$bin"

# verdaccio, a real npm registry for pkg/verify's tests. 6.8.0: newer
# releases want Node 22 or newer.
verdaccio_version=6.8.0
vd=$root/.cache/verdaccio
if [ ! -f "$vd/node_modules/verdaccio/package.json" ] || ! grep -q "\"version\": \"$verdaccio_version\"" "$vd/node_modules/verdaccio/package.json"; then
	echo "installing verdaccio@$verdaccio_version from npm into .cache/verdaccio"
	mkdir -p "$vd"
	(cd "$vd" && npm install --silent --no-audit --no-fund --no-save "verdaccio@$verdaccio_version" >/dev/null)
fi

# staticcheck, for make lint.
bash "$root/scripts/install-staticcheck.sh"
