# devid - the two set-up commands of the README:
#   make run   install dependencies, build, initialise ./var/devid, serve
#   make test  install dependencies, build (ASan+UBSan), run the whole suite
# Everything else here is a step of those two.

SHELL      := /bin/bash
JOBS       ?= $(shell nproc)
BUILD      ?= build
TESTBUILD  ?= build-test
FUZZBUILD  ?= build-fuzz
DATA       ?= $(CURDIR)/var/devid
ADDR       ?= 127.0.0.1:8443
FUZZ_SECONDS ?= 20

# Debian 12 packages: libraries (DESIGN §4), tools the tests drive as real
# peers, and the benchmark peer.
DEB_PKGS := build-essential cmake pkg-config clang \
	libssl-dev openssl libevent-dev libcurl4-openssl-dev curl \
	libjansson-dev libjose-dev jose libcbor-dev libtss2-dev \
	libsqlite3-dev sqlite3 libpq-dev libcmocka-dev \
	jq python3 golang-cfssl procps psmisc valgrind \
	swtpm swtpm-tools tpm2-tools \
	lego certbot uacme dehydrated python3-cryptography pebble

.PHONY: all deps build test-build unit e2e fuzz valgrind test run bench bench-acme bench-attest bench-inventory clean

all: build

deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test-build: deps
	cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug -DDEVID_SANITIZE=ON >/dev/null
	cmake --build $(TESTBUILD) -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZBUILD) -DCMAKE_BUILD_TYPE=Debug -DDEVID_FUZZ=ON \
		-DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
	cmake --build $(FUZZBUILD) -j $(JOBS) --target fuzzers
	bash fuzz/run.sh $(FUZZBUILD) $(FUZZ_SECONDS)

# The server and its signer child under valgrind memcheck, on the build
# without sanitizers (they cannot run together): a short scenario.
valgrind: build
	bash tests/valgrind/t_valgrind.sh $(BUILD)

# The whole suite: unit + end-to-end under ctest, a short fuzz run, then
# the valgrind scenario.
test: test-build
	cd $(TESTBUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory valgrind

run: build
	@if [ ! -f $(DATA)/config.json ]; then \
		$(BUILD)/devid-ca init --data $(DATA) --listen $(ADDR); fi
	$(BUILD)/devid-ca serve --data $(DATA)

bench: build
	bash bench/sign.sh $(BUILD)

# ACME issuance end to end vs pebble, real http-01 validation against the
# bench's own responder, W = 1 and 8 (issue 5; targets CPU <= 1/4 of
# pebble's per issuance, >= 2.5x its throughput at W = 8).
bench-acme: build
	bash bench/acme.sh $(BUILD)

# Attestation CA: server CPU per /attest + /secret pair, RSA-2048 and
# P-384 EKs from software TPMs (issue 4; targets 1 ms and 2 ms), and its
# ratio to the in-process floor (bench_attest --floor; FLOOR_DUR=0 skips).
bench-attest: build
	bash bench/attest.sh $(BUILD)

# 1 000 000 devices: import, lookups by EK URN, filtered pages, RSS.
bench-inventory: build
	bash bench/inventory.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD)
