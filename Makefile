# pitboss — the two commands (make run, make test) and friends. The real build is Meson.
BUILD    ?= build
PITBOSS  := $(BUILD)/pitboss
DB       ?= var/pitboss.db

.PHONY: all deps build run test bench clean fuzz check-all tsan valgrind web test-web lint format

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@BUILD=$(BUILD) DB=$(DB) scripts/run.sh

test: deps
	@scripts/test.sh

# the back office UI: web/dist (npm ci / npm run build when out of date)
web:
	@scripts/web-build.sh

# only the browser tests (tests/web/*.test.mjs, headless Chromium), then "N passed, N failed"
test-web: build web
	@meson test -C $(BUILD) --suite web --print-errorlogs | grep -E '^ *[0-9]+/[0-9]+ ' || true
	@python3 scripts/test-summary.py $(BUILD)

bench: build
	@mkdir -p var/bench
	@scripts/bench-disk.sh var/bench
	$(PITBOSS) bench ledger --dir var/bench
	$(PITBOSS) bench ledger --dir var/bench --clients 64 --per-submit 4
	$(PITBOSS) bench game --dir var/bench --seconds 10
	$(PITBOSS) bench fair --threads 2 --sim-rounds 10000000
	@scripts/bench-http.sh $(PITBOSS)
	@scripts/bench-wallet.sh $(PITBOSS)
	@BENCH_WALLET_NATS=1 scripts/bench-wallet.sh $(PITBOSS)
	@scripts/bench-events.sh $(PITBOSS)

# the source checks of make test alone: clang-format 14 and cppcheck (tests/lint/lint.sh)
lint: deps
	@tests/lint/lint.sh .

# rewrite every C file as clang-format 14 formats it (.clang-format)
format: deps
	@find src tests fuzz -type f \( -name '*.c' -o -name '*.h' \) -print0 | xargs -0 clang-format-14 -i

# libFuzzer harnesses (fuzz/): each for FUZZ_SECONDS (default 60), executions per harness printed
fuzz: deps
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) scripts/fuzz.sh

# ThreadSanitizer build of the concurrency tests (build-tsan)
tsan: deps
	@scripts/tsan.sh

# pitboss serve under valgrind memcheck: a few requests, SIGTERM, no leaks or invalid accesses
valgrind: build
	@scripts/valgrind.sh $(PITBOSS)

# everything: make test, then the TSan run and the valgrind run (docs/reliability.md);
# scripts/test.sh builds $(BUILD)/pitboss, which the valgrind run starts
check-all: deps
	@rc=0; scripts/test.sh || rc=1; scripts/tsan.sh || rc=1; \
	  scripts/valgrind.sh $(PITBOSS) || rc=1; exit $$rc

# the crash bank test: 100 SIGKILL cycles of pitboss serve under load, then every check
# (tests/crash/crash_bank.py; CRASH_ARGS="--seed N --clients N …" to vary it)
.PHONY: crash-test
crash-test: build
	@/usr/bin/python3 tests/crash/crash_bank.py $(PITBOSS) --cycles 100 $(CRASH_ARGS)

clean:
	rm -rf build build-asan build-fuzz build-tsan var/bench
