#!/usr/bin/env bash
# bench-sweep-scale.sh — layerscan sweeps of generated registries of 1,000,
# 10,000 and 100,000 images (docs/benchmarks.md, "Registry-scale sweeps").
#
# For each size in SIZES, TestBenchSweepScale (internal/benchreg) writes a
# registry straight into docker-registry's filesystem storage (no pushing:
# internal/benchreg, 50 tags a repository, three base layers shared by every
# image, one with a fake token, and one small layer of its own per image),
# starts Debian's docker-registry on 127.0.0.1 on it (TLS with a throw-away
# CA, no auth, access log on) and one PostgreSQL server (initdb into a
# temporary directory, as the tests start it: internal/testenv), then runs
# $LAYERSCAN against them:
#
#   first sweep         sweep REGISTRY --db postgres://…/full_N -f json -o FILE
#   second sweep        the same again, nothing changed in the registry
#   shard I/4           sweep REGISTRY --db postgres://…/shards_N --shard I/4 --run scale-N,
#                       I = 0..3 one after another (exact CPU, RSS and
#                       requests per shard; on 2 cores they would only compete)
#   report of the shards  report --db postgres://…/shards_N -f json -o FILE
#
# and prints one markdown table row per run: wall, CPU (user+sys) and peak
# RSS of the layerscan process (its rusage, the numbers /usr/bin/time -v
# prints), its exit status (1: findings, expected), and the registry requests
# of the run from the access log: catalog pages, tag lists, manifest GET and
# HEAD, blob GETs of configs and of layers (told apart by digest: the
# generator knows which blob is what), other requests (/v2/ pings, blob
# HEADs), how many of them failed (status ≥ 400), and the response bytes.
# Under each row, the last lines of layerscan's stderr (its summary).
#
# Disk: about 76 KB per image in the registry's storage (100,000 images:
# about 7.5 GB, removed at the end of each size).
#
# Environment: SIZES (default "1000 10000 100000"), RUNS (default "sweeps
# shards": the first and second sweeps, the shards and their report; one of
# the two words runs only those), TAGS_PER_REPO (default 50), LAYERSCAN (default bin/layerscan, built by make bench-sweep-scale),
# GO (default go), LOG (the file that gets the whole go test output; default
# a new file in $TMPDIR, named on the first line). Needs docker-registry and
# postgresql (make test-deps).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
GO=${GO:-go}
LAYERSCAN=${LAYERSCAN:-bin/layerscan}
case $LAYERSCAN in /*) ;; *) LAYERSCAN=$root/$LAYERSCAN ;; esac
if [ ! -x "$LAYERSCAN" ]; then
	echo "bench-sweep-scale: $LAYERSCAN is not an executable (make build)" >&2
	exit 2
fi
export GOFLAGS=${GOFLAGS:--tags=gore2regex}
export LAYERSCAN LAYERSCAN_BENCH_SWEEP_SCALE=1 LAYERSCAN_REQUIRE_TOOLS=1
export SIZES=${SIZES:-1000 10000 100000} RUNS=${RUNS:-sweeps shards} TAGS_PER_REPO=${TAGS_PER_REPO:-50}
LOG=${LOG:-$(mktemp "${TMPDIR:-/tmp}/bench-sweep-scale.XXXXXX.log")}
echo "bench-sweep-scale: the whole go test output goes to $LOG"
status=0
"$GO" test -count=1 -timeout 0 -run '^TestBenchSweepScale$' -v ./internal/benchreg/ 2>&1 | tee "$LOG" |
	grep --line-buffered -E '^(\||bench-sweep-scale|--- |ok|FAIL|panic)|_test\.go:' || status=$?
if [ "$status" -ne 0 ]; then
	echo "bench-sweep-scale: failed; the last lines of $LOG:" >&2
	tail -n 20 "$LOG" >&2
fi
exit "$status"
