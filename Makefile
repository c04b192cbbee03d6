# ebs-snapper — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X 'github.com/ebs-snapper/ebs-snapper/internal/version.stamp=ebs-snapper-build;v=$(VERSION);c=$(COMMIT);'

# The commit's time: the modification time of every release archive entry.
DATE ?= $(shell git log -1 --format=%cI 2>/dev/null || echo 2020-01-01T00:00:00Z)

.PHONY: help build lambda release release-check demo test test-install test-short vet fmt-check bench fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ebs-snapper
	$(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o bin/ebs-snapper ./cmd/ebs-snapper

# Lambda architecture: arm64 (default) or x86_64, as Lambda spells them.
ARCH ?= arm64
# Recursive (=), so a wrong ARCH fails only the lambda target.
LAMBDA_GOARCH = $(or $(if $(filter arm64,$(ARCH)),arm64),$(if $(filter x86_64,$(ARCH)),amd64),$(error ARCH=$(ARCH): want arm64 or x86_64))

lambda: ## build dist/bootstrap and dist/ebs-snapper-lambda-$(ARCH).zip for provided.al2023 (ARCH=arm64|x86_64)
	@mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build -tags lambda.norpc -trimpath -buildvcs=false -ldflags "-s -w $(LDFLAGS)" -o dist/bootstrap ./cmd/ebs-snapper
	rm -f dist/ebs-snapper-lambda-$(ARCH).zip
	cd dist && zip -q -X ebs-snapper-lambda-$(ARCH).zip bootstrap
	@echo "dist/ebs-snapper-lambda-$(ARCH).zip (bootstrap, $(ARCH), version $(VERSION))"

release: ## build dist/release: archives for linux, darwin, windows (amd64, arm64), two Lambda zips, a CycloneDX SBOM, SHA256SUMS
	rm -rf dist/release
	$(GO) run ./cmd/release -out dist/release -version $(VERSION) -commit $(COMMIT) -date $(DATE)
	cd dist/release && sha256sum -c SHA256SUMS

release-check: ## build the whole release twice, the second time with an empty Go build cache, and check that both are byte-identical
	rm -rf dist/release dist/release-again dist/gocache
	$(GO) run ./cmd/release -out dist/release -version $(VERSION) -commit $(COMMIT) -date $(DATE)
	GOCACHE=$(CURDIR)/dist/gocache $(GO) run ./cmd/release -out dist/release-again -version $(VERSION) -commit $(COMMIT) -date $(DATE)
	diff -r dist/release dist/release-again && echo "release: two builds are byte-identical"
	rm -rf dist/gocache
	cd dist/release && sha256sum -c SHA256SUMS

demo: build ## run the demo: moto on loopback, a small fleet, configure/plan/snapshot/clean
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) scripts/demo.sh

test: vet fmt-check ## run every test (unit, fuzz seeds, moto integration, cfn-lint, checkov, headless browser) with -race
	@if [ "$$CI" = true ] || [ "$${BROWSER_TESTS:-}" = 1 ]; then scripts/ensure-chromium.sh; fi
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) CFN_LINT=$$(scripts/ensure-cfn-lint.sh) CHECKOV=$$(scripts/ensure-checkov.sh) $(GO) test -race -count=1 -timeout 20m ./...

test-install: ## every install route (release archive, go install from a local module proxy, clone + make) through to deploy against moto
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) EBS_SNAPPER_INSTALL_TEST=1 $(GO) test -count=1 -timeout 20m -run '^TestInstall' -v ./internal/cli/

test-short: ## unit tests only (no emulator)
	$(GO) test -short -count=1 ./...

vet: ## go vet
	$(GO) vet ./...

fmt-check: ## fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

bench: ## benchmarks: moto fleets, the EC2 simulator at 10,000-50,000 volumes, replication, restore drills, the planner, a 10,000-volume chain of continuations, an organisation's cells (see docs/performance.md)
	MOTO_PYTHON=$$(scripts/ensure-moto.sh) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/snapper/... ./internal/handler/

clean: ## remove build output
	rm -rf bin dist
