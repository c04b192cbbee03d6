# ebs-snapper — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ebs-snapper/ebs-snapper/internal/cli.Version=$(VERSION)

.PHONY: help build demo test test-short vet fmt-check bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ebs-snapper
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ebs-snapper ./cmd/ebs-snapper

demo: build ## run the demo: moto on loopback, a small fleet, configure/plan/snapshot/clean
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) scripts/demo.sh

test: vet fmt-check ## run every test (unit, fuzz seeds, moto integration) with -race
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) $(GO) test -race -count=1 -timeout 20m ./...

test-short: ## unit tests only (no emulator)
	$(GO) test -short -count=1 ./...

vet: ## go vet
	$(GO) vet ./...

fmt-check: ## fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench: ## benchmarks: moto fleets, the EC2 simulator at 10,000-50,000 volumes, the planner (see docs/performance.md)
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/snapper/...

clean: ## remove build output
	rm -rf bin dist
