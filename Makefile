# gridline: `make run` serves the demo district on http://127.0.0.1:8080; `make test` runs every test.
# Both install what is missing (Debian packages via apt-get when root) and start a project-local
# PostGIS cluster under .gridline/, unless DATABASE_URL names another database.
SHELL := /bin/bash
GO ?= go
GOFLAGS ?= -mod=readonly
export GOFLAGS

DBURL = $$(scripts/setup.sh url)

.PHONY: all deps db web oracle build run test vet bench clean stop

all: build

deps:
	@command -v $(GO) >/dev/null || { echo "gridline needs Go 1.26 (https://go.dev/dl): install it, then run make again" >&2; exit 1; }
	@scripts/setup.sh deps

db: deps
	@scripts/setup.sh db

# The web map (web-map/): npm ci when package-lock.json is newer than node_modules, then the
# esbuild bundle into web-map/dist, which the binary embeds (a second or two).
web:
	@command -v npm >/dev/null || { echo "the web map needs Node 20 and npm: install them, then run make again" >&2; exit 1; }
	@cd web-map && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && node build.mjs

build: deps web
	$(GO) build -o bin/gridline ./cmd/gridline

run: db build
	DATABASE_URL="$(DBURL)" GRIDLINE_CHROMIUM_WARM=$${GRIDLINE_CHROMIUM_WARM:-true} bin/gridline serve --demo-if-empty

# vet: go vet, gofmt, go.mod and go.sum tidy, and staticcheck (pinned as a tool in go.mod).
vet:
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod or go.sum is not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	$(GO) tool staticcheck ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The calendar's oracle (worktime's test against the npm package chinese-days, pinned there).
oracle:
	@cd worktime/testdata/chinese-days && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; }

test: db vet web oracle
	DATABASE_URL="$(DBURL)" $(GO) test -race -count=1 -timeout 20m ./...

bench: db build
	DATABASE_URL="$(DBURL)" bench/run.sh
	DATABASE_URL="$(DBURL)" bench/tiles.sh
	DATABASE_URL="$(DBURL)" bench/import.sh
	DATABASE_URL="$(DBURL)" bench/coverage.sh
	DATABASE_URL="$(DBURL)" bench/escalate.sh
	DATABASE_URL="$(DBURL)" bench/drafts.sh
	DATABASE_URL="$(DBURL)" bench/addresses.sh
	DATABASE_URL="$(DBURL)" bench/stream.sh
	DATABASE_URL="$(DBURL)" bench/cases.sh
	DATABASE_URL="$(DBURL)" bench/patrol.sh
	DATABASE_URL="$(DBURL)" bench/stats.sh
	DATABASE_URL="$(DBURL)" bench/brief.sh

stop:
	@scripts/setup.sh stop

clean: stop
	rm -rf .gridline bin test-artifacts
