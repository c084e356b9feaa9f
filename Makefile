# Berth — the two commands of the README, and a few helpers.
#   make serve   build (release) and serve on 0.0.0.0:5000, storage in ./data
#   make build   .build/release/regctl, and .build/release/registry -> regctl:
#                started as `registry` it is distribution's command line
#   make test    the whole test suite (what CI runs): unit, model, crash, HTTP,
#                interop with skopeo/oras, plus a ~90 s libFuzzer smoke
SWIFT  ?= swift
JOBS   ?= 2
CONFIG ?=

.PHONY: serve test build deps test-deps fuzz-smoke bench clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	$(SWIFT) build -c release -j $(JOBS) --product regctl
	ln -sfn regctl .build/release/registry

serve: build
	.build/release/regctl serve $(CONFIG)

test: test-deps
	$(SWIFT) build -j $(JOBS) --build-tests
	Fuzz/run.sh smoke
	$(SWIFT) test -j $(JOBS) --skip-build

fuzz-smoke:
	Fuzz/run.sh smoke

clean:
	rm -rf .build
