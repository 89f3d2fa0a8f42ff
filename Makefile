# assay: `make test` installs what the tests need and runs them all.

GO       ?= go
PKGS     ?= ./...
# Debian packages the end-to-end tests start as real parts.
APT_PKGS ?= prometheus prometheus-alertmanager kcat chromium
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test test-short deps lint fuzz bench bench-go bench-peer bench-verify soak anomaly-eval clean

all: build

build:
	$(GO) build -o bin/assay ./cmd/assay

## deps: install the Debian packages the end-to-end tests need, when missing
## (with sudo when not root): real Prometheus, Alertmanager, kcat, Chromium,
## and Node for Microsoft's Adaptive Cards parser.
deps:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	{ command -v node >/dev/null && command -v npm >/dev/null; } || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## test: every test, with the race detector, after installing what they need.
test: deps
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## test-short: unit tests only, no external parts.
test-short:
	$(GO) test -short -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

## fuzz: run every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./rules
	$(GO) test -run XXX -fuzz '^FuzzCompile$$' -fuzztime $(FUZZTIME) -timeout 0 ./rules
	$(GO) test -run XXX -fuzz '^FuzzSimpleRegexp$$' -fuzztime $(FUZZTIME) ./rules
	$(GO) test -run XXX -fuzz '^FuzzNativeMatchesExpr$$' -fuzztime $(FUZZTIME) ./rules
	$(GO) test -run XXX -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME) ./formats
	$(GO) test -run XXX -fuzz '^FuzzExtractMatchesDecodeJSON$$' -fuzztime $(FUZZTIME) ./formats
	$(GO) test -run XXX -fuzz '^FuzzWireFormat$$' -fuzztime $(FUZZTIME) ./formats/confluent
	$(GO) test -run XXX -fuzz '^FuzzClosest$$' -fuzztime $(FUZZTIME) ./internal/suggest
	$(GO) test -run XXX -fuzz '^FuzzStateKey$$' -fuzztime $(FUZZTIME) ./kafka

## bench: one table of the performance figures on the 20-rule contract
## (bench/README.md): assay test and assay run per CPU-second, allocations,
## RSS, the encoding/json floor and the Benthos harness of bench/peer; first
## the Go benchmark of each stage of a record (decode, evaluate, tally, all in).
BENCH_EVENTS ?= 200000
BENCH_RUNS   ?= 3
bench:
	$(GO) test -run XXX -bench 'Stage|Record' -benchmem ./pipeline
	$(GO) run ./bench -events $(BENCH_EVENTS) -runs $(BENCH_RUNS)

## bench-go: the Go benchmarks of every package.
bench-go:
	$(GO) test -run XXX -bench . -benchmem $(PKGS)

## bench-peer: the Benthos harness alone (its own Go module) on generated orders.
bench-peer:
	@f=$$(mktemp); trap 'rm -f $$f' EXIT; \
	$(GO) run ./bench -mode gen -events $(BENCH_EVENTS) > $$f && \
	cd bench/peer && $(GO) run . -file $$f

## bench-verify: assay test, the Benthos harness and bench/truth.py agree rule by rule.
bench-verify:
	sh bench/verify.sh $(BENCH_EVENTS)

## soak: assay run against a steady stream for SOAK_DURATION; fails if RSS
## or goroutines grow beyond their bound.
SOAK_DURATION ?= 3m
soak:
	$(GO) run ./bench -mode soak -duration $(SOAK_DURATION)

## anomaly-eval: the anomaly rules of internal/weekgen's contract on generated
## weeks with injected incidents (docs/anomaly-evaluation.md): recall and
## precision per kind of incident, false alarms per day. Other weeks:
## ANOMALY_EVAL_SEEDS=1,2,3,4,5,6,7,8.
ANOMALY_EVAL_SEEDS ?= 1,2,3
anomaly-eval:
	$(GO) test -count=1 -run '^TestAnomalyEvaluation$$' -v ./offline -args -eval.seeds=$(ANOMALY_EVAL_SEEDS)

clean:
	rm -rf bin
