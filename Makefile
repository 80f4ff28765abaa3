# pitboss — the two commands (make run, make test) and friends. The real build is Meson.
BUILD    ?= build
PITBOSS  := $(BUILD)/pitboss
DB       ?= var/pitboss.db

.PHONY: all deps build run test bench clean

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

bench: build
	@mkdir -p var/bench
	$(PITBOSS) bench ledger --dir var/bench
	$(PITBOSS) bench ledger --dir var/bench --clients 64 --per-submit 4
	$(PITBOSS) bench game --dir var/bench --seconds 10
	$(PITBOSS) bench fair --threads 2 --sim-rounds 10000000
	@scripts/bench-http.sh $(PITBOSS)
	@scripts/bench-wallet.sh $(PITBOSS)

# the crash bank test: 100 SIGKILL cycles of pitboss serve under load, then every check
# (tests/crash/crash_bank.py; CRASH_ARGS="--seed N --clients N …" to vary it)
.PHONY: crash-test
crash-test: build
	@/usr/bin/python3 tests/crash/crash_bank.py $(PITBOSS) --cycles 100 $(CRASH_ARGS)

clean:
	rm -rf build build-asan var/bench
