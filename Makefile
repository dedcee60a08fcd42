# Every setup step lives here: a clean clone needs only `make test` (and `make demo`).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_MAJOR := 24
TOOLS := $(CURDIR)/.tools
NODE_PREFIX := $(TOOLS)/node$(NODE_MAJOR)
PROJECT_NODE := $(NODE_PREFIX)/node_modules/.bin/node
HOST_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

# Tests, CI and the image run the same Node major: the host's when it is 24, else the npm
# registry's node@24 package (which carries the real binary).
ifeq ($(HOST_NODE_MAJOR),$(NODE_MAJOR))
NODE_STAMP :=
else
NODE_STAMP := $(PROJECT_NODE)
export PATH := $(NODE_PREFIX)/node_modules/.bin:$(PATH)
endif
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help
help: ## list the targets
	@grep -hE '^[A-Za-z0-9_.-]+:([^=].*)?## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PROJECT_NODE):
	@echo "make: host node is v$(HOST_NODE_MAJOR); installing node@$(NODE_MAJOR) from the npm registry into $(NODE_PREFIX)"
	@mkdir -p $(NODE_PREFIX)
	npm install --prefix $(NODE_PREFIX) --no-save --no-audit --no-fund node@$(NODE_MAJOR) >/dev/null
	@$(PROJECT_NODE) --version

.PHONY: node
node: $(NODE_STAMP) ## provide Node 24
	@node --version

node_modules/.package-lock.json: package-lock.json package.json | $(NODE_STAMP)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## install npm packages from the lock file

.PHONY: prerequisites
prerequisites: ## system tools the tests use: openssl (test certificates), shellcheck (lint)
	@missing=""; for tool in openssl shellcheck; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [[ -n "$$missing" ]]; then echo "make: installing$$missing with apt"; apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi

.PHONY: build
build: deps ## compile TypeScript to dist/
	rm -rf dist
	tsc -p tsconfig.build.json

.PHONY: lint
lint: deps prerequisites ## format check, lint, type check, shell scripts
	biome check .
	tsc -p tsconfig.json --noEmit
	shellcheck .ci/run bin/apolo-secrets-webhook test/cluster/*.sh test/kind/*.sh

.PHONY: format
format: deps ## apply the formatter and safe lint fixes
	biome check --write .

.PHONY: test-unit
test-unit: deps build prerequisites cluster-tools ## unit, HTTPS, offline-command and chart-rendering tests
	@mkdir -p .tmp
	vitest run --config vitest.config.ts --reporter=default --reporter=json --outputFile.json=.tmp/results-unit.json

.PHONY: test
test: lint test-unit test-e2e ## every test
	@node test/support/summary.mjs .tmp/results-unit.json .tmp/results-e2e.json

.PHONY: cluster-tools
cluster-tools: ## build etcd, kube-apiserver, kubectl, helm and promtool (cached outside the tree, keyed by version)
	bash test/cluster/build-tools.sh

.PHONY: apolo-cli
apolo-cli: ## the platform's apolo CLI from PyPI (pinned in test/cluster/apolo-cli-requirements.txt) in a cached virtualenv under .tools; needs Python 3.10+
	bash test/cluster/install-apolo-cli.sh

.PHONY: test-e2e
test-e2e: deps build prerequisites cluster-tools apolo-cli ## end-to-end tests against a real kube-apiserver
	@mkdir -p .tmp
	vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json=.tmp/results-e2e.json

.PHONY: demo
demo: deps build prerequisites cluster-tools ## the main job: a local control plane, the webhook, job pods mutated and refused
	node --import tsx test/cluster/demo.ts demo

.PHONY: up
up: deps build prerequisites cluster-tools apolo-cli ## keep a local control plane with the webhook running until Ctrl-C
	@# node, not the tsx wrapper: tsx SIGKILLs a child that does not acknowledge a relayed SIGTERM
	@# within 30 ms, which a busy start does not, and the cluster folder would stay in /tmp.
	node --import tsx test/cluster/demo.ts up

IMAGE ?= apolo-secrets-webhook:dev

.PHONY: image
image: ## build the container image (needs a Docker engine)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "make image: no Docker engine here; test/cluster/production-install.ts runs the same install steps in make test"; exit 1; }
	docker build -t $(IMAGE) .

.PHONY: kind-e2e
kind-e2e: deps cluster-tools ## the end-to-end suite on a kind cluster with the chart installed (needs Docker and kind)
	HELM=$$(grep '^HELM_BIN=' $${APOLO_TOOLS_CACHE:-$$HOME/.cache/apolo-secrets-webhook/bin}/versions.env | cut -d= -f2) bash test/kind/kind-e2e.sh

.PHONY: bench
bench: deps build prerequisites cluster-tools ## benchmarks vs a minimal Node server, every target met/missed, .tmp/bench/latest.json (BENCH_ONLY=admission,api-server,soak,scale; BENCH_SECONDS=3, BENCH_ROUNDS=3, BENCH_API_PODS=2000, BENCH_SOAK_SECONDS=120, BENCH_SCALES=1000,10000,100000, BENCH_WEBHOOK_NODE_OPTIONS=the chart's)
	@command -v wrk >/dev/null || { echo "make: installing wrk with apt"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	tsx bench/run.ts

.PHONY: fuzz
fuzz: deps ## hostile and generated reviews up to the body limit: well-formed answers, time vs size (FUZZ_SECONDS, FUZZ_RUNS)
	tsx bench/fuzz.ts
