#!/usr/bin/env bash
# Builds the false-positive reference image: real Debian content, several
# layers, built by buildah. Used by docs/accuracy.md and the benchmarks; the
# image itself is not committed.
#
# usage: scripts/build-debian-image.sh OUTDIR
#   → OUTDIR/debian-ref.oci.tar (OCI archive, gzip layers)
#
# Layers: debootstrap --variant=minbase bookworm; then one buildah RUN per
# step: ca-certificates ssl-cert openssh-server curl git / python3
# python3-pip python3-venv / nodejs npm / openjdk-17-jre-headless /
# rm -rf /var/lib/apt/lists/*. Needs root, network access to the Debian
# mirror, debootstrap and buildah (apt-get install debootstrap buildah skopeo).
set -euo pipefail
export LC_ALL=C
out=${1:?usage: $0 OUTDIR}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for t in debootstrap buildah skopeo; do
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

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
ln "$out/rootfs.tar" "$ctx/rootfs.tar" 2>/dev/null || cp "$out/rootfs.tar" "$ctx/rootfs.tar"
cat > "$ctx/Containerfile" <<'CF'
FROM scratch
ADD rootfs.tar /
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates ssl-cert openssh-server curl git
RUN apt-get install -y --no-install-recommends python3 python3-pip python3-venv
RUN apt-get install -y --no-install-recommends nodejs npm
RUN apt-get install -y --no-install-recommends openjdk-17-jre-headless
RUN rm -rf /var/lib/apt/lists/*
CMD ["/bin/bash"]
CF
"${bb[@]}" bud --layers --isolation chroot -t localhost/layerscan-debian-ref:latest -f "$ctx/Containerfile" "$ctx"
rm -f "$out/debian-ref.oci.tar"
"${bb[@]}" push localhost/layerscan-debian-ref:latest "oci-archive:$out/debian-ref.oci.tar"
ls -l "$out/debian-ref.oci.tar"
