# Convenience entry points for a Debian 12 machine (see README.md). CMake does the real work;
# these targets only install the Debian packages it needs and pick the build directories, which
# match CMakePresets.json.

SHELL := /bin/bash

# Everything deputy needs to build and run its tests, all from Debian 12 (bookworm) main; the
# tests' own servers (TEST_PACKAGES) and clang for the sanitizers and fuzzers (CLANG_PACKAGES)
# are installed by the targets that use them.
PACKAGES := build-essential cmake ninja-build pkg-config libuv1-dev node-llhttp \
	android-libboringssl-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev libgmock-dev \
	libcli11-dev libspdlog-dev libidn2-dev libpsl-dev libcrypt-dev libc-ares-dev publicsuffix \
	ca-certificates netbase

BUILD_DIR ?= build
TEST_DIR ?= build-test
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
CONFIG ?= conf/deputy.json
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2
DEMO_BIN ?= $(BUILD_DIR)/tests/deputy-demo
# apt-get needs root; use sudo only when we are not root already.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Sanitizer settings for test-sanitize; the environment may override them.
SANITIZE_ENV := ASAN_OPTIONS="$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
	UBSAN_OPTIONS="$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

.PHONY: all deps clang-deps test-deps packages build run test test-sanitize test-tsan demo clean fuzz bench bench-cache soak format format-check

all: build

# Installs only what is missing, so a machine that has everything never needs root.
deps:
	@missing=$$(for p in $(PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -qx 'install ok installed' \
	      || echo $$p; \
	  done); \
	if [ -z "$$missing" ]; then \
	  echo "deps: all $(words $(PACKAGES)) Debian packages are installed"; \
	else \
	  echo "deps: installing" $$missing; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $$missing; \
	fi

# clang with its sanitizer and libFuzzer runtimes, for test-sanitize and fuzz; installed by them
# when missing, so neither `make build` nor `make test` needs them.
CLANG_PACKAGES := clang libclang-rt-14-dev

# install-missing LIST: installs the Debian packages of LIST that are not installed yet.
define install-missing
	@missing=$$(for p in $(1); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -qx 'install ok installed' \
	      || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "$@: installing" $$missing; \
	  $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    $$missing; \
	fi
endef

clang-deps:
	$(call install-missing,$(CLANG_PACKAGES))

# Servers the tests run as real peers: dnsmasq answers DNS that changes under deputy, unbound
# the negative answers with an SOA that dnsmasq never sends.
TEST_PACKAGES := dnsmasq-base unbound curl
PROMTOOL := build-tools/promtool

test-deps: $(PROMTOOL)
	$(call install-missing,$(TEST_PACKAGES))

# promtool, Prometheus's own checker, lints a live /metrics and metrics/alerts.yml in the tests.
# It is taken out of Debian's prometheus package, not installed with it: installing would start
# a Prometheus server. The package is only unpacked, into build-tools/.
$(PROMTOOL): | deps
	@rm -rf build-tools/prometheus-deb && mkdir -p build-tools/prometheus-deb
	cd build-tools/prometheus-deb && { apt-get download prometheus 2>/dev/null || \
	  { $(SUDO) apt-get update && apt-get download prometheus; }; }
	dpkg-deb -x build-tools/prometheus-deb/prometheus_*.deb build-tools/prometheus-deb/root
	cp build-tools/prometheus-deb/root/usr/bin/promtool $@
	rm -rf build-tools/prometheus-deb
	@$@ --version | head -1

# One apt-get at a time (dpkg holds a lock), even under make -j.
test-deps clang-deps: deps

# Prints the package list, for .ci/run and Dockerfiles.
packages:
	@echo $(PACKAGES)

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS) --target deputy

run: build
	exec $(BUILD_DIR)/deputy run -c $(CONFIG)

test: deps test-deps
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEPUTY_SANITIZE=OFF
	cmake --build $(TEST_DIR) -j $(JOBS)
	ctest --test-dir $(TEST_DIR) --output-on-failure -j $(CTEST_JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer, built with clang (it
# compiles this code under the sanitizers in about 60 % of gcc's time). The fuzzers are built in
# the same tree, so `make fuzz` after this compiles no deputy_core of its own. The build runs the
# test binary too (gtest test discovery), so the sanitizer settings apply to both steps.
# Benchmarks are not built here: ctest never runs them, and `make test` compiles them.
ASAN_CONFIGURE := cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DDEPUTY_SANITIZE=ON -DDEPUTY_FUZZ=ON -DDEPUTY_BUILD_BENCH=OFF \
	-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++

test-sanitize: deps test-deps clang-deps
	$(ASAN_CONFIGURE)
	$(SANITIZE_ENV) cmake --build $(ASAN_DIR) -j $(JOBS)
	$(SANITIZE_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(CTEST_JOBS)

# The same suite under ThreadSanitizer (clang), with every deputy it starts running its default
# workers (one per CPU): a data race anywhere, in the test process or a deputy, fails the run
# (TSan exits 66 from a process that reported one). Benchmarks are not built here.
TSAN_ENV := TSAN_OPTIONS="$${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

test-tsan: deps test-deps clang-deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEPUTY_TSAN=ON \
	  -DDEPUTY_BUILD_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	$(TSAN_ENV) cmake --build $(TSAN_DIR) -j $(JOBS)
	$(TSAN_ENV) ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(CTEST_JOBS)

demo: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target deputy-demo
	$(DEMO_BIN)

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR) $(ASAN_DIR) $(TSAN_DIR) build-tools

# Fuzzers (tests/fuzz): one libFuzzer binary per parser of untrusted input, built in the clang
# ASan + UBSan tree of test-sanitize ($(ASAN_DIR)/fuzz) and run for FUZZ_SECONDS each over its
# seed corpus. The repository's corpus is only read; new inputs go to $(FUZZ_DIR)/corpus and
# crashes to $(FUZZ_DIR)/artifacts. deputy_core and llhttp report their coverage there too, so
# the fuzzers are guided by the parsers' own code.
FUZZ_DIR ?= $(ASAN_DIR)

FUZZ_SECONDS ?= 30
FUZZERS := $(patsubst tests/fuzz/%_fuzzer.cc,%,$(wildcard tests/fuzz/*_fuzzer.cc))

fuzz: deps clang-deps
	$(ASAN_CONFIGURE)
	cmake --build $(ASAN_DIR) -j $(JOBS) --target deputy_fuzzers
	@failed=""; \
	for f in $(FUZZERS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$f $(FUZZ_DIR)/artifacts; \
	  dict=; [ -f tests/fuzz/$$f.dict ] && dict=-dict=tests/fuzz/$$f.dict; \
	  echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	  $(ASAN_DIR)/fuzz/$${f}_fuzzer -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$f- $(FUZZ_DIR)/corpus/$$f tests/fuzz/corpus/$$f \
	    || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in$$failed (see $(FUZZ_DIR)/artifacts)"; exit 1; fi

# Throughput, setup latency and idle memory through deputy against direct TLS, in one run
# (bench/README.md); arguments via BENCH_ARGS, e.g. make bench BENCH_ARGS="--mib 128".
bench: deps
	bench/run.sh $(BENCH_ARGS)

# What one delegation cache hit costs, on 1 to BENCH_CACHE_THREADS loops at once, in-process on
# a Release build (bench/README.md). Reported, never asserted.
BENCH_DIR ?= build-bench
BENCH_CACHE_THREADS ?= $(JOBS)
bench-cache: deps
	cmake -S . -B $(BENCH_DIR) $(if $(wildcard $(BENCH_DIR)/CMakeCache.txt),,-G Ninja) \
	  -DCMAKE_BUILD_TYPE=Release -DDEPUTY_BUILD_TESTS=ON -DDEPUTY_BUILD_BENCH=ON
	cmake --build $(BENCH_DIR) -j $(JOBS) --target deputy-cache-bench
	$(BENCH_DIR)/bench/deputy-cache-bench --threads $(BENCH_CACHE_THREADS)

# Minutes of mixed load on one Release deputy (not in CI): RSS and descriptors sampled each
# second, printed as a table, plots and a summary (bench/README.md). SOAK_SECONDS shortens the
# run (make soak SOAK_SECONDS=120); SOAK_ARGS passes more flags to deputy-soak.
SOAK_SECONDS ?= 600
soak: deps
	cmake -S . -B $(BENCH_DIR) $(if $(wildcard $(BENCH_DIR)/CMakeCache.txt),,-G Ninja) \
	  -DCMAKE_BUILD_TYPE=Release -DDEPUTY_BUILD_TESTS=ON -DDEPUTY_BUILD_BENCH=ON
	cmake --build $(BENCH_DIR) -j $(JOBS) --target deputy deputy-soak
	$(BENCH_DIR)/bench/deputy-soak --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

# clang-format (Google base, 100 columns, see .clang-format) over every tracked C++ file.
format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@command -v clang-format >/dev/null || $(SUDO) apt-get install -y --no-install-recommends clang-format
	git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror
