#!/usr/bin/env bash
# Build the buildah test-image corpus for layerscan.
#
# usage: scripts/build-test-images.sh OUTDIR [CASE...]
#
# For every case directory testdata/buildah/cases/<case>/ (or only the CASEs
# named) this builds the Containerfile there with
#   buildah --storage-driver vfs bud --layers --isolation chroot --pull=never
# on top of a busybox base image built FROM scratch, and writes
#   OUTDIR/<case>.oci.tar     (oci-archive, gzip layers)
#   OUTDIR/<case>.docker.tar  (docker-archive, uncompressed layers)
#
# Nothing is pulled: the base image localhost/layerscan-base:latest is made
# here from OUTDIR/base/base.tar, a deterministic tarball of Debian's
# busybox-static (/bin/busybox) and its applet symlinks.
#
# Buildah state (OUTDIR/storage, OUTDIR/run, OUTDIR/tmp) stays under OUTDIR.
# A case is skipped when both outputs exist and OUTDIR/stamps/<case> holds
# the hash of its inputs (the case dir minus expected.json/README*, base.tar,
# this script, the buildah version and the timestamp).
#
# Environment:
#   BUSYBOX                  static busybox to use (default /bin/busybox)
#   LAYERSCAN_IMAGE_TIMESTAMP  seconds since the epoch passed to
#                            `bud --timestamp` and used for base.tar mtimes
#                            (default 1704067200 = 2024-01-01T00:00:00Z), so
#                            image and layer digests are reproducible. Set to
#                            "now" to let buildah record wall-clock times.
#   LAYERSCAN_FORCE=1        rebuild every selected case.
set -euo pipefail
export LC_ALL=C

die() { echo "build-test-images: $*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: $0 OUTDIR [CASE...]"

script_path=$(readlink -f "${BASH_SOURCE[0]}")
repo_root=$(cd "$(dirname "$script_path")/.." && pwd)
cases_dir=$repo_root/testdata/buildah/cases

# ---------------------------------------------------------------- tools
missing=()
for tool in buildah skopeo tar sha256sum flock; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [[ ${#missing[@]} -gt 0 ]]; then
	die "missing required tool(s): ${missing[*]} (Debian: apt-get install buildah skopeo busybox-static)"
fi
busybox=${BUSYBOX:-/bin/busybox}
if [[ ! -x $busybox ]]; then
	die "missing $busybox: install Debian's busybox-static (apt-get install busybox-static) or set BUSYBOX"
fi
# The base image has no libc: the busybox must be statically linked.
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static (apt-get install busybox-static) or set BUSYBOX"
fi
"$busybox" --list-full >/dev/null 2>&1 || die "$busybox --list-full failed"

timestamp=${LAYERSCAN_IMAGE_TIMESTAMP:-1704067200}
if [[ $timestamp == now ]]; then
	ts_args=()
	tar_mtime=@0
else
	[[ $timestamp =~ ^[0-9]+$ ]] || die "LAYERSCAN_IMAGE_TIMESTAMP must be seconds since the epoch or 'now'"
	ts_args=(--timestamp "$timestamp")
	tar_mtime=@$timestamp
fi

# ---------------------------------------------------------------- cases
if [[ $# -gt 1 ]]; then
	cases=("${@:2}")
	for c in "${cases[@]}"; do
		[[ -f $cases_dir/$c/Containerfile ]] || die "unknown case '$c' (no $cases_dir/$c/Containerfile)"
	done
else
	cases=()
	for f in "$cases_dir"/*/Containerfile; do
		[[ -e $f ]] || continue
		cases+=("$(basename "$(dirname "$f")")")
	done
	[[ ${#cases[@]} -gt 0 ]] || die "no cases found under $cases_dir"
fi

# ---------------------------------------------------------------- layout
mkdir -p "$1"
outdir=$(cd "$1" && pwd)
mkdir -p "$outdir/storage" "$outdir/run" "$outdir/tmp" "$outdir/stamps" "$outdir/base"

# One build at a time per OUTDIR (tests in several packages may call us).
exec 9>"$outdir/.lock"
flock 9
# Leftovers of an interrupted run.
rm -rf "${outdir:?}/tmp" && mkdir -p "$outdir/tmp"

umask 022
export TMPDIR=$outdir/tmp
bah=(buildah --root "$outdir/storage" --runroot "$outdir/run" --storage-driver vfs)
buildah_version=$(buildah --version)

base_ref=localhost/layerscan-base:latest

# ---------------------------------------------------------------- base.tar
# Deterministic: fixed mtimes, sorted names, numeric owner 0:0, explicit modes.
make_base_tar() {
	local stage=$1 out=$2 applet d
	mkdir -p "$stage"
	for d in bin sbin usr/bin usr/sbin usr/local/bin etc root tmp app var dev proc sys run; do
		mkdir -p "$stage/$d"
	done
	install -m 0755 "$busybox" "$stage/bin/busybox"
	while IFS= read -r applet; do
		[[ -n $applet && $applet != bin/busybox ]] || continue
		mkdir -p "$stage/$(dirname "$applet")"
		ln -sfn /bin/busybox "$stage/$applet"
	done < <("$busybox" --list-full | LC_ALL=C sort)
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\n' >"$stage/etc/group"
	chmod 0644 "$stage/etc/passwd" "$stage/etc/group"
	find "$stage" -type d -exec chmod 0755 {} +
	chmod 0700 "$stage/root"
	chmod 1777 "$stage/tmp"
	(cd "$stage" && LC_ALL=C tar --sort=name --format=ustar \
		--mtime="$tar_mtime" --owner=0 --group=0 --numeric-owner \
		-cf "$out" -- *)
}

base_tmp=$(mktemp -d "$outdir/tmp/base.XXXXXX")
trap 'rm -rf "$base_tmp"' EXIT
make_base_tar "$base_tmp/stage" "$base_tmp/base.tar"
if ! cmp -s "$base_tmp/base.tar" "$outdir/base/base.tar" 2>/dev/null; then
	mv "$base_tmp/base.tar" "$outdir/base/base.tar"
fi
rm -rf "$base_tmp"
cat >"$outdir/base/Containerfile" <<'EOF'
FROM scratch
ADD base.tar /
CMD ["/bin/sh"]
EOF
# --layers makes this a cache hit when base.tar is unchanged.
if ! log=$("${bah[@]}" bud --layers --isolation chroot --pull=never "${ts_args[@]}" \
	-f "$outdir/base/Containerfile" -t "$base_ref" "$outdir/base" 2>&1); then
	echo "$log" >&2
	die "building $base_ref failed"
fi
base_sum=$(sha256sum <"$outdir/base/base.tar" | cut -d' ' -f1)
script_sum=$(sha256sum <"$script_path" | cut -d' ' -f1)

# ---------------------------------------------------------------- helpers
# Hash of a case's build inputs: relative path, kind, executable bit and
# content of every file (expected.json and README* excluded).
case_hash() {
	local dir=$1 f x
	{
		printf '%s\n' "$script_sum" "$base_sum" "$buildah_version" "$timestamp"
		(cd "$dir" && find . \( -type f -o -type l \) ! -name expected.json ! -name 'README*' -print0 |
			LC_ALL=C sort -z |
			while IFS= read -r -d '' f; do
				if [[ -L $f ]]; then
					printf 'L %s %s\n' "$f" "$(readlink "$f")"
				else
					x=-; [[ -x $f ]] && x=x
					printf 'F %s %s %s\n' "$f" "$x" "$(sha256sum <"$f" | cut -d' ' -f1)"
				fi
			done)
	} | sha256sum | cut -d' ' -f1
}

# build.args: one `buildah bud` argument per line; blank lines and lines
# starting with # are ignored; relative paths are relative to the case dir.
read_build_args() {
	local file=$1 line
	build_args=()
	[[ -f $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		[[ -z ${line//[[:space:]]/} || $line =~ ^[[:space:]]*# ]] && continue
		build_args+=("$line")
	done <"$file"
}

# depends: the cases a case is built FROM (localhost/layerscan-test/<case>),
# one per line; blank lines and lines starting with # are ignored.
case_deps() {
	local file=$cases_dir/$1/depends line
	[[ -f $file ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line//[[:space:]]/}
		[[ -z $line || $line == \#* ]] && continue
		printf '%s\n' "$line"
	done <"$file"
}

build_case() {
	local name=$1 need_image=${2:-} src=$cases_dir/$1 ref=localhost/layerscan-test/$1:latest
	local ctx oci=$outdir/$1.oci.tar docker=$outdir/$1.docker.tar stamp=$outdir/stamps/$1
	local hash start log layers layout dep
	hash=$(case_hash "$src")
	# A case built FROM another case is rebuilt when that one is.
	for dep in $(case_deps "$name"); do
		hash=$(printf '%s\n' "$hash" "$dep" "$(cat "$outdir/stamps/$dep" 2>/dev/null)" | sha256sum | cut -d' ' -f1)
	done
	if [[ ${LAYERSCAN_FORCE:-} != 1 && -f $oci && -f $docker && -f $stamp && $(<"$stamp") == "$hash" ]] &&
		{ [[ -z $need_image ]] || "${bah[@]}" inspect --type image "$ref" >/dev/null 2>&1; }; then
		echo "case $name: cached"
		return 0
	fi
	start=$SECONDS
	rm -f "$stamp" "$oci" "$docker"
	# Build from a copy with normalised modes so that digests do not depend
	# on the checkout's umask (buildah's "COPY file:<sha>" hashes modes too).
	ctx=$(mktemp -d "$outdir/tmp/ctx-$name.XXXXXX")
	cp -R "$src/." "$ctx/"
	# Git cannot track a directory named .git: cases store one as dot-git.
	find "$ctx" -depth -type d -name dot-git -execdir mv dot-git .git \;
	find "$ctx" -type d -exec chmod 0755 {} +
	find "$ctx" -type f -perm -u+x -exec chmod 0755 {} +
	find "$ctx" -type f ! -perm -u+x -exec chmod 0644 {} +
	# prepare (optional): run in the context before the build, to fetch
	# real third-party content (apt-get download, npm ci).
	if [[ -f $ctx/prepare ]]; then
		if ! log=$(cd "$ctx" && ./prepare 2>&1); then
			echo "$log" >&2
			rm -rf "$ctx"
			die "case $name: prepare failed"
		fi
		rm -f "$ctx/prepare"
	fi
	read_build_args "$ctx/build.args"
	if ! log=$(cd "$ctx" && "${bah[@]}" bud --layers --isolation chroot --pull=never \
		"${ts_args[@]}" "${build_args[@]}" -f Containerfile -t "$ref" . 2>&1); then
		echo "$log" >&2
		rm -rf "$ctx"
		die "case $name: buildah bud failed"
	fi
	rm -rf "$ctx"
	# oci-archive: push to an OCI layout dir and tar it ourselves with fixed
	# mtimes; `push oci-archive:` would give the same blobs but stamp the
	# archive's own entries with the wall clock, so the .tar bytes would vary.
	layout=$(mktemp -d "$outdir/tmp/oci-$name.XXXXXX")
	rm -f "$oci.tmp" "$docker.tmp"
	"${bah[@]}" push --quiet "$ref" "oci:$layout:$ref" >/dev/null
	(cd "$layout" && tar --sort=name --format=gnu --mtime="$tar_mtime" \
		--owner=0 --group=0 --numeric-owner -cf "$oci.tmp" -- *)
	rm -rf "$layout"
	"${bah[@]}" push --quiet "$ref" "docker-archive:$docker.tmp:$ref" >/dev/null
	# Read both archives back.
	skopeo inspect --raw "oci-archive:$oci.tmp" >/dev/null || die "case $name: skopeo cannot read $oci.tmp"
	skopeo inspect --raw "docker-archive:$docker.tmp" >/dev/null || die "case $name: skopeo cannot read $docker.tmp"
	mv "$oci.tmp" "$oci"
	mv "$docker.tmp" "$docker"
	echo "$hash" >"$stamp"
	layers=$("${bah[@]}" inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$ref")
	echo "case $name: built in $((SECONDS - start))s ($layers layers) -> $oci, $docker"
}

# Cases named in a case's depends file are built first (their images must
# be in buildah's storage: --pull=never).
declare -A built=() visiting=()
build_with_deps() {
	local name=$1 need_image=${2:-} dep
	[[ -n ${built[$name]:-} ]] && return 0
	[[ -z ${visiting[$name]:-} ]] || die "case $name: circular depends"
	visiting[$name]=1
	for dep in $(case_deps "$name"); do
		[[ -f $cases_dir/$dep/Containerfile ]] || die "case $name depends on unknown case '$dep'"
		build_with_deps "$dep" need-image
	done
	build_case "$name" "$need_image"
	built[$name]=1
}

for c in "${cases[@]}"; do
	build_with_deps "$c"
done
