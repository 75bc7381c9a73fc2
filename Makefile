# Parley: `make run` and `make test` are the whole quick start (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: help deps test-deps ui-deps ui build build-tests run bundle test lint fmt protocol-ts \
        test-rust test-ui test-e2e test-lan clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: ## install what building and running needs (Debian packages, npm packages)
	@scripts/install-deps.sh run
	@$(MAKE) --no-print-directory ui-deps

test-deps: ## install what the tests also need (Chromium, Xvfb, coturn, avahi, Redis, ...)
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory ui-deps

ui-deps:
	@if [ -f ui/package.json ]; then \
	  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	    cd ui && npm install --no-audit --no-fund; fi; fi
# `npm install`, not `npm ci`: the lock file cannot list @tauri-apps/cli's binaries for other
# platforms (the registry here serves only this platform's), and `npm ci` refuses such a lock.

ui: ui-deps ## build the UI into ui/dist
	@if [ -f ui/package.json ]; then cd ui && npm run build; else mkdir -p ui/dist; fi

build: ui ## build every binary (debug)
	$(CARGO) build --workspace --bins

run: deps build ## build and launch Parley
	@scripts/run.sh

bundle: deps ui ## release .deb of the app (under target/release/bundle/deb)
	ui/node_modules/.bin/tauri build --bundles deb

fmt: ## format Rust and UI sources
	$(CARGO) fmt --all

protocol-ts: ## regenerate ui/src/protocol/{generated,app-ipc}.ts from the Rust types
	PARLEY_UPDATE_TS=1 $(CARGO) test -q -p parley-protocol --test ts_bindings
	PARLEY_UPDATE_TS=1 $(CARGO) test -q -p parley --lib ipc_types

lint: ui ## formatting, clippy -D warnings, protocol drift, UI type checks
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@if [ -f ui/package.json ]; then cd ui && npm run check; fi

test-rust: ui ## Rust unit, integration and property tests
	$(CARGO) test --workspace

test-ui: ui-deps ## UI unit tests (Vitest)
	@if [ -f ui/package.json ]; then cd ui && npm test; fi

test-e2e: build ## browser end-to-end suites (Chromium + real servers)
	@if [ -x ui/e2e/run.sh ]; then ui/e2e/run.sh; fi

test-lan: build ## LAN test bed in network namespaces
	@if [ -x tests/lan/run.sh ]; then tests/lan/run.sh; fi

.PHONY: test-app
test-app: build bundle ## the app: smoke, deep links, WebDriver suite on a namespace LAN, .deb install (root)
	tests/app/smoke.sh
	tests/app/deep-link.sh
	tests/app/run.sh
	tests/app/deb.sh

.PHONY: test-app-native
test-app-native: build ## the app calls Chromium on its native GStreamer engine (root)
	tests/app/run-native.sh

.PHONY: test-nat
test-nat: build ## NAT lab: calls across nftables NATs via STUN/TURN (coturn), in namespaces
	@if [ -x tests/nat/run.sh ]; then tests/nat/run.sh; fi

.PHONY: test-native
test-native: build ## native engine (GStreamer webrtcbin) calling Chromium through parley-server
	@if [ -x tests/native/run.sh ]; then tests/native/run.sh; fi

test: test-deps lint test-rust test-ui test-e2e test-app test-app-native test-lan test-nat test-native ## everything CI runs
	@echo "make test: all suites passed"

clean:
	$(CARGO) clean; rm -rf ui/dist ui/node_modules
