# The two commands: `make demo` and `make test`. Both install what is missing first.
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS = -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: setup configure build test test-fast test-asan demo bench format format-check clean \
	install package
PREFIX ?= /usr/local

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja: | setup
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(ASAN_DIR)/build.ninja: | setup
	cmake -S . -B $(ASAN_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DSTANDBY_SANITIZE=ON \
	  -DSTANDBY_BUILD_BENCHMARKS=OFF

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test-fast: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

test-asan: setup $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) --timeout 900

test: test-fast test-asan format-check

# Installs into $(PREFIX) (and under $(DESTDIR) when set): docs/manual.md, "Installing".
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The .deb (for /usr, with the systemd unit and the `standby` user): build/standby_*.deb.
package: build
	cd $(BUILD_DIR) && cpack -G DEB

demo: build
	./$(BUILD_DIR)/standby demo --non-interactive

bench: build
	./$(BUILD_DIR)/bench/standby_micro_bench
	bash bench/compare/run.sh

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@out=$$(git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -20; echo "clang-format: files above need 'make format'"; exit 1; fi

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
