#!/usr/bin/env bash
# bench-rss.sh — layerscan's whole-process wall, CPU and peak RSS on two
# generated images, against the speed issue's memory target: peak RSS under
# 200 MB for a single 4 GB layer and for an image of 100 layers.
#
# scripts/genbig writes both as OCI archives (tar of an OCI layout), streaming
# every layer to disk (tar → gzip, fastest level): (a) ONE layer of SIZE_MB
# MiB of file content, (b) LAYERS layers of LAYER_MB MiB each, where every
# layer after the first also deletes (whiteouts, directory whiteouts, opaque
# directories) and overwrites files of the layers below, so that the
# lifecycle tracking has state to hold. The files are what a secret scanner
# meets in real images: config, .env, log and source-like text full of
# key=value pairs, base64 blobs (YAML binaryData, PEM-like certificates),
# ELF-like and other binary files with string tables, rotated .gz logs and
# jars; fake secrets of five gitleaks rules, random at each SEED, are planted
# in every kind of file (one per 64 MiB, at least 8 and one per layer), some of
# them later deleted or overwritten. Each image is scanned once; the report
# is checked against the planted list (rule, layer, path, archive member,
# line, status). A missed secret fails the run as well as an RSS over the
# limit.
#
# MB in the table are 2^20 bytes (GNU time's KiB / 1024), as in
# scripts/bench-image.sh. Exit status: 0 every image PASS, 1 otherwise.
#
# Environment: SIZE_MB (default 4096), LAYERS (default 100), LAYER_MB
# (default 4), SEED (default 1), LIMIT_MB (default 200), LAYERSCAN (default
# bin/layerscan), LAYERSCAN_ARGS (default "-q -f json --exit-code 0"), GO
# (default go), WORK (default a new mktemp -d directory, removed at the end;
# from a given WORK only the files made here are), KEEP=1 to keep them all
# (images, planted lists, reports, time -v outputs).
#
# Disk: the single-layer archive is about half of SIZE_MB, and is on disk
# twice for a moment while it is written (blob, then archive). Time on 2
# cores: generation about 8 s per GiB; layerscan at the detector's speed
# (a few minutes for 4 GiB). SIZE_MB=256 LAYERS=10 makes a quick run.
set -euo pipefail

SIZE_MB=${SIZE_MB:-4096}
LAYERS=${LAYERS:-100}
LAYER_MB=${LAYER_MB:-4}
SEED=${SEED:-1}
LIMIT_MB=${LIMIT_MB:-200}
LAYERSCAN=${LAYERSCAN:-bin/layerscan}
LAYERSCAN_ARGS=${LAYERSCAN_ARGS:--q -f json --exit-code 0}
GO=${GO:-go}
KEEP=${KEEP:-0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

[ -x /usr/bin/time ] || { echo "bench-rss: needs GNU time (/usr/bin/time, package 'time')" >&2; exit 2; }
[ -x "$LAYERSCAN" ] || command -v "$LAYERSCAN" >/dev/null || { echo "bench-rss: $LAYERSCAN not found (make build)" >&2; exit 2; }
for v in SIZE_MB LAYERS LAYER_MB SEED LIMIT_MB; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-rss: $v=${!v}: want a positive integer" >&2; exit 2; }
done

if [ -n "${WORK:-}" ]; then
	work=$WORK
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/bench-rss.XXXXXX")
fi
# Without KEEP=1: the mktemp directory goes, or from a given WORK the files
# made here.
cleanup() {
	if [ "$KEEP" = 1 ]; then
		echo "bench-rss: kept $work" >&2
	elif [ -n "${WORK:-}" ]; then
		rm -f "$work/genbig" "$work"/single.* "$work"/layered.*
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# The generator, built from this checkout (its go.mod: go-containerregistry,
# klauspost/compress).
"$GO" -C "$root" build -o "$work/genbig" ./scripts/genbig

# kv KEY LINE — the value of KEY in a "k=v k=v" line.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# gen NAME GENBIG-ARGS… — writes $work/NAME.oci.tar and $work/NAME.gen.
gen() {
	local name=$1 start end
	shift
	echo "bench-rss: generating $name ($*)…" >&2
	start=$(date +%s.%N)
	"$work/genbig" gen -o "$work/$name.oci.tar" -seed "$SEED" "$@" >"$work/$name.gen"
	end=$(date +%s.%N)
	printf '%s gen_s=%.1f\n' "$(cat "$work/$name.gen")" "$(echo "$end - $start" | bc -l)" >"$work/$name.gen"
}

# scan NAME — layerscan under time -v; writes $work/NAME.json, NAME.time,
# NAME.check (genbig check's line).
scan() {
	local name=$1 rc=0
	echo "bench-rss: scanning $name…" >&2
	# shellcheck disable=SC2086
	/usr/bin/time -v -o "$work/$name.time" "$LAYERSCAN" $LAYERSCAN_ARGS "oci-archive:$work/$name.oci.tar" \
		>"$work/$name.json" 2>"$work/$name.stderr" || rc=$?
	if [ $rc != 0 ]; then
		echo "bench-rss: layerscan exited $rc on $name:" >&2
		tail -5 "$work/$name.stderr" >&2
		tail -3 "$work/$name.time" >&2 || true
	fi
	echo "$rc" >"$work/$name.rc"
	"$work/genbig" check -planted "$work/$name.oci.tar.planted.json" -report "$work/$name.json" \
		>"$work/$name.check" 2>"$work/$name.check.stderr" || echo "planted=0 found=-1" >"$work/$name.check"
	head -20 "$work/$name.check.stderr" >&2
}

# measured NAME — "wall cpu rss_kb" from NAME.time.
measured() {
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/User time/   { u = $2 }
		/System time/ { s = $2 }
		/Maximum resident set size/ { r = $2 }
		END { printf "%.1f %.1f %d\n", w, u + s, r }' "$work/$1.time"
}

gen single -layers 1 -layer-mb "$SIZE_MB"
gen layered -layers "$LAYERS" -layer-mb "$LAYER_MB"
load=$(cut -d' ' -f1-3 /proc/loadavg)
scan single
scan layered

version=$("$LAYERSCAN" version 2>/dev/null) || version="$LAYERSCAN (version unknown)"
printf '\n%s on %s cores (load average before the scans: %s); MB = 2^20 bytes\n\n' \
	"${version%%$'\n'*}" "$(nproc)" "$load"
fmt='%-22s %6s %8s %9s %8s %6s %8s %8s %9s %8s %s\n'
printf "$fmt" image layers entries "uncompr." stored "gen s" "wall s" "CPU s" "peak RSS" found result
fail=0
for name in single layered; do
	g=$(cat "$work/$name.gen")
	c=$(cat "$work/$name.check")
	read -r wall cpu rss < <(measured "$name")
	rss_mb=$(( rss / 1024 ))
	planted=$(kv planted "$c")
	found=$(kv found "$c")
	status_ok=$(kv status_ok "$c")
	why=()
	[ "$(cat "$work/$name.rc")" = 0 ] || why+=("exit $(cat "$work/$name.rc")")
	[ "$rss_mb" -lt "$LIMIT_MB" ] || why+=("RSS ≥ $LIMIT_MB MB")
	[ "$found" = "$planted" ] || why+=("missed $(( planted - found )) planted")
	[ "$status_ok" = "$found" ] || why+=("$(( found - status_ok )) with an unexpected status")
	if [ ${#why[@]} = 0 ]; then
		result=PASS
	else
		result="FAIL ($(IFS=,; echo "${why[*]}"))"
		fail=1
	fi
	case $name in
	single) label="single layer, ${SIZE_MB} MiB" ;;
	*) label="${LAYERS} layers × ${LAYER_MB} MiB" ;;
	esac
	printf "$fmt" "$label" "$(kv layers "$g")" "$(kv entries "$g")" "$(mb "$(kv uncompressed "$g")") MB" \
		"$(mb "$(kv stored "$g")") MB" "$(kv gen_s "$g")" "$wall" "$cpu" "$rss_mb MB" "$found/$planted" "$result"
	printf '%-22s other findings %s, warnings %s, errors %s\n' "" "$(kv other "$c")" "$(kv warnings "$c")" "$(kv errors "$c")"
done
printf '\ntarget: peak RSS < %s MB for each image: %s\n' "$LIMIT_MB" "$([ $fail = 0 ] && echo PASS || echo FAIL)"
exit $fail
