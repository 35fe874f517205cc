# ankaflow — SQL-first data pipelines on DuckDB.
GO      ?= go
BIN     := bin/ankaflow
PKGS    := ./...
# The first build links DuckDB's static library (about a minute); later builds are cached.

.PHONY: build run test bench vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/ankaflow

## run: build and run the embedded demo pipeline (no network needed)
run: build
	./$(BIN) run DEMO

## test: every test (real PostgreSQL, MariaDB and psql where installed; required when CI=true)
test:
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 45m $(PKGS)

## bench: benchmarks, each printed as a ratio against its reference measured in the same run
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x -timeout 60m $(PKGS) | tee bench.out | $(GO) run ./cmd/benchreport

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin out bench.out
