#!/usr/bin/env bash
# bench-image.sh IMAGE — whole-process wall, CPU and peak RSS of layerscan on
# one image, beside the floor (gunzip of every layer blob, one thread) and,
# when trivy is on PATH, trivy's secret scanner. Runs are interleaved
# (floor, layerscan, trivy, floor, …) so that all three see the same machine
# load; each figure is the median of RUNS (default 3). The last line gives
# the ratios the speed issue targets: layerscan ≤ 1.5× the floor, ≤ ½ of
# trivy, peak RSS ≤ 200 MB.
#
# IMAGE: an OCI archive (tar of an OCI layout) or a `docker save` tar.
# Environment: LAYERSCAN (default bin/layerscan), LAYERSCAN_ARGS (default
# "-q -f json --exit-code 0"), RUNS, TRIVY (default trivy),
# TRIVY_ARGS (default "image --scanners secret --cache-backend memory -q -f json").
#
# trivy is not needed (its column is left out without it). To install the
# version the targets were set against (about 12 minutes to build):
#   GOEXPERIMENT=jsonv2 go install github.com/aquasecurity/trivy/cmd/trivy@v0.74.0
set -euo pipefail

IMAGE=${1:?usage: scripts/bench-image.sh IMAGE (OCI archive or docker save tar)}
[ -f "$IMAGE" ] || { echo "bench-image: $IMAGE: no such file" >&2; exit 2; }
LAYERSCAN=${LAYERSCAN:-bin/layerscan}
LAYERSCAN_ARGS=${LAYERSCAN_ARGS:--q -f json --exit-code 0}
RUNS=${RUNS:-3}
TRIVY=${TRIVY:-trivy}
TRIVY_ARGS=${TRIVY_ARGS:-image --scanners secret --cache-backend memory -q -f json}
[ -x /usr/bin/time ] || { echo "bench-image: needs GNU time (/usr/bin/time, package 'time')" >&2; exit 2; }
[ -x "$LAYERSCAN" ] || command -v "$LAYERSCAN" >/dev/null || { echo "bench-image: $LAYERSCAN not found (make build)" >&2; exit 2; }
have_trivy=0
command -v "$TRIVY" >/dev/null 2>&1 && have_trivy=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The floor's input: every gzip blob of the archive, extracted once (not
# timed). OCI layouts keep blobs under blobs/; docker save tars as
# <id>/layer.tar or blobs/ too; only gzip-compressed blobs count.
mkdir -p "$work/blobs"
tar -xf "$IMAGE" -C "$work/blobs"
mapfile -t layers < <(find "$work/blobs" -type f -size +0 -exec sh -c \
	'for f; do [ "$(head -c2 "$f" | od -An -tx1 | tr -d " ")" = "1f8b" ] && echo "$f"; done' sh {} +)
[ ${#layers[@]} -gt 0 ] || { echo "bench-image: no gzip layer blobs in $IMAGE" >&2; exit 2; }
stored=$(du -cb "${layers[@]}" | tail -1 | cut -f1)
# trivy reads a docker save tar or an OCI layout directory, not an OCI
# archive: for an OCI archive it gets the layout extracted above (the same
# bytes, from the page cache like the archive).
trivy_input=$IMAGE
[ -f "$work/blobs/index.json" ] && [ ! -f "$work/blobs/manifest.json" ] && trivy_input=$work/blobs

# timed NAME CMD… — appends "wall cpu rss_kb" to $work/NAME.
timed() {
	local name=$1
	shift
	/usr/bin/time -v -o "$work/time.txt" "$@" >/dev/null 2>"$work/$name.stderr" || {
		echo "bench-image: $name failed:" >&2
		tail -5 "$work/$name.stderr" >&2
		exit 1
	}
	awk -F': ' '
		/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
		/User time/   { u = $2 }
		/System time/ { s = $2 }
		/Maximum resident set size/ { r = $2 }
		END { printf "%.2f %.2f %d\n", w, u + s, r }' "$work/time.txt" >>"$work/$name"
}


for i in $(seq "$RUNS"); do
	echo "run $i/$RUNS…" >&2
	timed gunzip bash -c "$(declare -p layers); for f in \"\${layers[@]}\"; do gzip -dc \"\$f\"; done"
	# shellcheck disable=SC2086
	timed layerscan "$LAYERSCAN" $LAYERSCAN_ARGS "oci-archive:$IMAGE"
	if [ $have_trivy = 1 ]; then
		# shellcheck disable=SC2086
		timed trivy "$TRIVY" $TRIVY_ARGS --input "$trivy_input"
	fi
done

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
col() { cut -d' ' -f"$2" "$work/$1" | median; }

printf '\nimage %s: %d gzip layers, %.0f MB stored; median of %d interleaved runs, %s cores\n\n' \
	"$IMAGE" "${#layers[@]}" "$(echo "$stored / 1000000" | bc -l)" "$RUNS" "$(nproc)"
printf '%-34s %8s %8s %10s\n' "" "wall s" "CPU s" "peak RSS"
row() { printf '%-34s %8s %8s %7d MB\n' "$1" "$(col "$2" 1)" "$(col "$2" 2)" "$(( $(col "$2" 3) / 1024 ))"; }
row "gunzip every layer (the floor)" gunzip
row "layerscan" layerscan
[ $have_trivy = 1 ] && row "trivy --scanners secret" trivy

lw=$(col layerscan 1)
fw=$(col gunzip 1)
lr=$(( $(col layerscan 3) / 1024 ))
ratios=$(printf 'layerscan/floor = %.2f× (target ≤ 1.5)' "$(echo "$lw / $fw" | bc -l)")
if [ $have_trivy = 1 ]; then
	tw=$(col trivy 1)
	ratios+=$(printf ', layerscan/trivy = %.2f× (target ≤ 0.5)' "$(echo "$lw / $tw" | bc -l)")
else
	ratios+=", trivy: not on PATH"
fi
ratios+=", peak RSS ${lr} MB (target ≤ 200)"
printf '\nratios: %s\n' "$ratios"
