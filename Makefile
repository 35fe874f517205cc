# ankaflow — SQL-first data pipelines on DuckDB.
GO      ?= go
BIN     := bin/ankaflow
PKGS    := ./...
# The first build links DuckDB's static library (about a minute); later builds are cached.

NODE_CLIENT := pgwire/testdata/clients/node

.PHONY: build run test stress bench vet fmt clean clients fuzz

build:
	$(GO) build -o $(BIN) ./cmd/ankaflow

## run: build and run the embedded demo pipeline (no network needed)
run: build
	./$(BIN) run DEMO

## test: every test (real PostgreSQL, MariaDB and clients where installed; required when CI=true)
test: clients
	$(GO) vet $(PKGS)
	$(GO) mod tidy -diff
	$(GO) test -count=1 -timeout 45m $(PKGS)
	$(GO) test -race -count=1 -run 'TestInterrupt' ./engine
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

# make test explores each fuzz target for a bounded number of inputs; `make fuzz` for longer.
TEST_FUZZTIME ?= 2000x

## fuzz: each wire-protocol fuzz target for FUZZTIME inputs (seed corpus: pgwire/testdata/fuzz). A count,
## not a duration: Go 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
## when a duration runs out under load (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 20000x
FUZZ_TARGETS := FuzzDecodeBinary FuzzDecodeArrayBinary FuzzDecodeNumericBinary FuzzDecodeText \
	FuzzCopyBinary FuzzCopyText FuzzStartupPacket FuzzMessageFraming
fuzz:
	@for f in $(FUZZ_TARGETS); do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./pgwire || exit 1; done

## stress: the session interrupt/close race under -race, and the packages that once aborted on
## it, many times over while the other packages test in parallel
stress:
	$(GO) test -race -count=3 -run 'TestInterrupt' ./engine
	$(GO) test -count=20 -timeout 45m ./engine ./cmd/cli ./sqlfuncs

## bench: benchmarks, each printed as a ratio against its reference measured in the same run;
## BENCH_RUNS=3 repeats the whole run and prints the median ratio of the back-to-back pairs
BENCH_RUNS ?= 1
bench:
	@for i in $$(seq $(BENCH_RUNS)); do \
		$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime 3x -timeout 60m $(PKGS) || exit 1; \
	done | tee bench.out | $(GO) run ./cmd/benchreport

## clients: node-postgres for the wire-server client tests, pinned by its package-lock.json
## (psycopg2, pgjdbc and psql come from Debian packages; see .ci/run)
clients:
	@if [ ! -d $(NODE_CLIENT)/node_modules/pg ] && command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(NODE_CLIENT) --no-audit --no-fund --loglevel=error; fi

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out bench.out
