# layerscan — see README.md.
GO      ?= go
BIN     ?= bin/layerscan
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# gitleaks' RE2 engine (pure Go, through WebAssembly): about 10x the
# detector's speed of Go's regexp, same findings (docs/benchmarks.md). A plain
# `go build` works too, with the standard engine.
TAGS    ?= gore2regex
export GOFLAGS := $(strip $(GOFLAGS) -tags=$(TAGS))
# The sample image for the demo: generated, shipped in testdata.
DEMO_IMAGE ?= oci-archive:testdata/images/lifecycle.oci.tar

.PHONY: all build demo test test-deps lint generate bench bench-sweep bench-shards bench-rss accuracy clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/layerscan

## demo: scan the sample image in testdata (findings are expected: exit 0 here).
demo: build
	$(BIN) --exit-code 0 $(DEMO_IMAGE)

test-deps:
	@bash scripts/install-test-deps.sh

## lint: gofmt, go vet, go.mod tidy, staticcheck (installed into .cache/bin).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	@bash scripts/install-staticcheck.sh
	.cache/bin/staticcheck ./...

## test: every test, with the real tools (installed when missing). Tests of
## data outside the repository (../shared/external-images, or
## LAYERSCAN_EXTERNAL_IMAGES=DIR) are skipped when it is missing, unless
## LAYERSCAN_REQUIRE_EXTERNAL=1 (CI); one line at the end counts the skips,
## SKIP_LOG lists them. The exit status is go test's.
SKIP_LOG ?= .cache/test-skips.txt
test: test-deps lint
	@mkdir -p "$(dir $(SKIP_LOG))" && : > "$(SKIP_LOG)"
	@echo 'LAYERSCAN_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 20m ./...'
	@LAYERSCAN_REQUIRE_TOOLS=1 LAYERSCAN_SKIP_LOG="$(abspath $(SKIP_LOG))" $(GO) test -count=1 -timeout 20m ./...; rc=$$?; \
	sort -u "$(SKIP_LOG)" | awk -F'\t' -v list="$(SKIP_LOG)" '$(SKIP_SUMMARY)'; \
	exit $$rc

# SKIP_SUMMARY prints, per reason in the skip log (PACKAGE, TEST, REASON per
# line, sorted), one line: how many tests, how many per package, the reason.
SKIP_SUMMARY = NF == 3 { \
	if (!($$3 in n)) reasons[++nr] = $$3; \
	n[$$3]++; \
	if (!(($$3, $$1) in c)) pkgs[$$3, ++np[$$3]] = $$1; \
	c[$$3, $$1]++ \
} END { \
	for (i = 1; i <= nr; i++) { \
		r = reasons[i]; s = ""; \
		for (j = 1; j <= np[r]; j++) s = s (j > 1 ? ", " : "") pkgs[r, j] " " c[r, pkgs[r, j]]; \
		printf "make test: skipped %d test%s (%s; list in %s): %s\n", n[r], n[r] == 1 ? "" : "s", s, list, r; \
	} \
}

## fuzz: every native Go fuzz target for FUZZTIME each (crashers land in the
## package's testdata/fuzz and become regression tests that `make test` runs).
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./pkg/history:FuzzLifecycle ./pkg/history:FuzzNormalize \
	./pkg/walk:FuzzWalkLayer ./pkg/walk:FuzzNestedArchive \
	./pkg/fetch:FuzzOCIMetadata ./pkg/fetch:FuzzDockerArchive \
	./pkg/detect:FuzzConfigFile \
	./pkg/sanitize:FuzzText ./pkg/redact:FuzzRedact \
	./pkg/verify:FuzzFromFile
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## bench: Go benchmarks of the walker, the detector and whole scans of a
## generated image, and with IMAGE=path
## (an OCI archive or docker save tar) the whole-process comparison of
## scripts/bench-image.sh: layerscan beside the gunzip floor and trivy, if
## on PATH (see docs/benchmarks.md).
IMAGE ?=
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./pkg/walk/ ./pkg/detect/ ./pkg/scan/
	@if [ -n "$(IMAGE)" ]; then $(MAKE) --no-print-directory build && LAYERSCAN=$(BIN) bash scripts/bench-image.sh "$(IMAGE)"; fi

BENCH_LAYER_KB ?= 4096
## bench-sweep: a local registry with 200+ tags over 40+ repositories swept twice
## (wall time, bytes downloaded; docs/benchmarks.md, "Registry sweeps").
bench-sweep: test-deps
	LAYERSCAN_REQUIRE_TOOLS=1 LAYERSCAN_BENCH_SWEEP=1 LAYERSCAN_BENCH_LAYER_KB=$(BENCH_LAYER_KB) $(GO) test -count=1 -run '^TestBenchSweep$$' -v ./cmd/layerscan/ | grep -E '^(bench-sweep|--- |ok|FAIL)'

## bench-shards: the bench-sweep registry swept by 1, 2 and 4 shard processes
## at once into one real PostgreSQL (wall time, layers per shard, database
## rows; docs/benchmarks.md, "Sharded sweeps").
bench-shards: test-deps
	LAYERSCAN_REQUIRE_TOOLS=1 LAYERSCAN_BENCH_SHARDS=1 LAYERSCAN_BENCH_LAYER_KB=$(BENCH_LAYER_KB) $(GO) test -count=1 -timeout 30m -run '^TestBenchShards$$' -v ./cmd/layerscan/ | grep -E '^(bench-shards|--- |ok|FAIL)'

## bench-rss: peak RSS, wall and CPU of layerscan on two generated images, a
## single layer of SIZE_MB MiB (default 4096) and LAYERS layers (default 100),
## with planted fake secrets checked against the report; fails over 200 MB
## (scripts/bench-rss.sh; KEEP=1 keeps the images).
bench-rss: build
	LAYERSCAN=$(BIN) bash scripts/bench-rss.sh

## accuracy: recall, precision, layer and status accuracy over the buildah corpus.
accuracy: test-deps
	LAYERSCAN_REQUIRE_TOOLS=1 $(GO) test -count=1 -run '^TestAccuracy$$' -v ./cmd/layerscan/ | grep -v '^=== RUN'

## man: man pages generated from the cobra commands, into man/ (MANDIR=…).
MANDIR ?= man
man:
	$(GO) run -ldflags '-X main.version=$(VERSION)' ./cmd/layerscan man $(MANDIR)

generate:
	$(GO) generate ./internal/testimage/

clean:
	rm -rf bin .cache
