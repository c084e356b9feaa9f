# Berth — the two commands of the README, and a few helpers.
#   make serve   build (release) and serve on 0.0.0.0:5000, storage in ./data
#   make build   .build/release/regctl, and .build/release/registry -> regctl:
#                started as `registry` it is distribution's command line
#   make image   OCI image laid out like registry:3, built with buildah from the
#                release build (IMAGE=berth:latest; IMAGE_OUTPUT=oci-archive:berth.tar
#                also writes it out); see docs/compose/
#   make test    the whole test suite (what CI runs): unit, model, crash, HTTP,
#                interop with skopeo/oras, plus a ~90 s libFuzzer smoke
SWIFT  ?= swift
JOBS   ?= 2
CONFIG ?=

.PHONY: serve test build image deps test-deps fuzz-smoke bench clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	$(SWIFT) build -c release -j $(JOBS) --product regctl
	ln -sfn regctl .build/release/registry

IMAGE ?= berth:latest
IMAGE_OUTPUT ?=

image: build
	@scripts/install-deps.sh --image
	scripts/build-image.sh --tag $(IMAGE) $(if $(IMAGE_OUTPUT),--output $(IMAGE_OUTPUT))

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
