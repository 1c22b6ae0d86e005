# Convenience entry points for a Debian 12 machine (see README.md). CMake does the real work;
# these targets only install the Debian packages it needs and pick the build directories, which
# match CMakePresets.json.

SHELL := /bin/bash

# Everything deputy needs to build and test, all from Debian 12 (bookworm) main.
PACKAGES := build-essential cmake ninja-build pkg-config libuv1-dev node-llhttp \
	android-libboringssl-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev libgmock-dev \
	libcli11-dev libspdlog-dev ca-certificates

BUILD_DIR ?= build
TEST_DIR ?= build-test
ASAN_DIR ?= build-asan
CONFIG ?= conf/deputy.json
JOBS ?= $(shell nproc)
CTEST_JOBS ?= 2
DEMO_BIN ?= $(BUILD_DIR)/tests/deputy-demo
# apt-get needs root; use sudo only when we are not root already.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Sanitizer settings for test-sanitize; the environment may override them.
SANITIZE_ENV := ASAN_OPTIONS="$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}" \
	UBSAN_OPTIONS="$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

.PHONY: all deps packages build run test test-sanitize demo clean

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

# Prints the package list, for .ci/run and Dockerfiles.
packages:
	@echo $(PACKAGES)

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS) --target deputy

run: build
	exec $(BUILD_DIR)/deputy run -c $(CONFIG)

test: deps
	cmake -S . -B $(TEST_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEPUTY_SANITIZE=OFF
	cmake --build $(TEST_DIR) -j $(JOBS)
	ctest --test-dir $(TEST_DIR) --output-on-failure -j $(CTEST_JOBS)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer. The build runs the test
# binary too (gtest test discovery), so the sanitizer settings apply to both steps.
test-sanitize: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEPUTY_SANITIZE=ON
	$(SANITIZE_ENV) cmake --build $(ASAN_DIR) -j $(JOBS)
	$(SANITIZE_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(CTEST_JOBS)

demo: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target deputy-demo
	$(DEMO_BIN)

clean:
	rm -rf $(BUILD_DIR) $(TEST_DIR) $(ASAN_DIR)
