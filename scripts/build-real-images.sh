#!/usr/bin/env bash
# Builds the real-content reference images: Debian packages, npm, Python,
# Java and Ruby libraries as users' images carry them, with nothing planted
# (every finding on them is noise). Used by docs/accuracy.md (precision) and
# docs/benchmarks.md (speed: debian-ref); the images are not committed.
#
# usage: scripts/build-real-images.sh OUTDIR [NAME...]
#   → OUTDIR/NAME.oci.tar for each NAME under testdata/real-images (default: all)
#
# Every image starts FROM scratch with `ADD rootfs.tar /`, a
# `debootstrap --variant=minbase bookworm` tree made once into
# OUTDIR/rootfs.tar; then buildah builds testdata/real-images/NAME/Containerfile
# (`bud --layers --isolation chroot`, vfs storage under OUTDIR). node-app's
# node_modules come from `npm ci` of the buildah case npm-app's lockfile;
# java-app's app.jar from javac. Needs root, the Debian mirror, the npm
# registry, debootstrap, buildah, npm and a JDK.
set -euo pipefail
export LC_ALL=C
out=${1:?usage: $0 OUTDIR [NAME...]}
shift
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/testdata/real-images
mkdir -p "$out"
out=$(cd "$out" && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for d in "$src"/*/; do names+=("$(basename "$d")"); done
fi
for t in debootstrap buildah; do
	command -v "$t" >/dev/null || { echo "missing $t (apt-get install $t)" >&2; exit 1; }
done
bb=(buildah --root "$out/storage" --runroot "$out/run" --storage-driver vfs)

if [ ! -f "$out/rootfs.tar" ]; then
	rm -rf "$out/rootfs"
	debootstrap --variant=minbase bookworm "$out/rootfs" "$mirror"
	tar -C "$out/rootfs" --numeric-owner -cf "$out/rootfs.tar.tmp" .
	mv "$out/rootfs.tar.tmp" "$out/rootfs.tar"
	rm -rf "$out/rootfs"
fi

for name in "${names[@]}"; do
	[ -f "$src/$name/Containerfile" ] || { echo "unknown image $name (no $src/$name/Containerfile)" >&2; exit 1; }
	ctx=$(mktemp -d)
	cp -r "$src/$name/." "$ctx/"
	ln "$out/rootfs.tar" "$ctx/rootfs.tar" 2>/dev/null || cp "$out/rootfs.tar" "$ctx/rootfs.tar"
	case $name in
	node-app)
		# The dependencies of the buildah corpus's npm-app case, locked.
		mkdir -p "$ctx/app"
		cp "$root/testdata/buildah/cases/npm-app/"{package.json,package-lock.json,server.js} "$ctx/app/"
		(cd "$ctx/app" && npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error)
		;;
	java-app)
		mkdir -p "$ctx/classes"
		javac -d "$ctx/classes" "$ctx/src/app/Main.java"
		printf 'Main-Class: app.Main\n' > "$ctx/manifest.txt"
		jar cfm "$ctx/app.jar" "$ctx/manifest.txt" -C "$ctx/classes" .
		;;
	esac
	echo "== building $name"
	"${bb[@]}" bud --layers --isolation chroot -t "localhost/layerscan-real/$name:latest" -f "$ctx/Containerfile" "$ctx"
	rm -f "$out/$name.oci.tar"
	"${bb[@]}" push "localhost/layerscan-real/$name:latest" "oci-archive:$out/$name.oci.tar:localhost/layerscan-real/$name:latest"
	rm -rf "$ctx"
	ls -l "$out/$name.oci.tar"
done
