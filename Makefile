# conveyor-metrics — every target installs what it needs on a machine that has only Swift.
SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# C libraries and tools the build needs (system-library targets use pkg-config; libcrypt-dev
# is bcrypt for the exporter's basic auth; swift-nio-ssl brings its own BoringSSL).
BUILD_DEPS := pkg-config libsnappy-dev libprotobuf-c-dev libcurl4-openssl-dev libcrypt-dev
# Real peers the test suite runs: prometheus (brings promtool), victoria-metrics, and
# openssl (a self-signed TLS server for the handshake-failure test; the CA, server and client
# certificates of the exporter's TLS tests).
TEST_DEPS  := prometheus victoria-metrics openssl
LISTEN     ?= 0.0.0.0:9090

.PHONY: all deps deps-test build release run test test-unit test-core-only examples docs format lint clean proto check-proto bench bench-instructions bench-push test-tsan test-asan fuzz fuzz-seeds simulate

all: build

# Installs the Debian packages in $(1) that are not installed yet (apt-get; sudo when not root).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

deps-test: deps
	$(call apt_install,$(TEST_DEPS))

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Builds release and runs the demo router: http://localhost:9090/metrics
run: release
	.build/release/conveyor-metrics demo --listen $(LISTEN)

# The whole suite: every test target (IntegrationTests runs real prometheus, promtool,
# victoria-metrics, openssl and the demo executable), the core-only consumer, the examples.
# The simulation runs after the rest: its seconds of CPU on both cores would starve the
# tests that measure real time.
# The 60 s outage test counts flushes against the clock: it runs on its own, after the suite
# (among 370 tests on 2 cores its flushes ran seconds late).
ALONE := aSixtySecondOutageAtOneSecondIntervalsLosesNothing
test: deps-test lint check-proto
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip PushSimulationTests --skip $(ALONE)
	$(SWIFT) test --skip-build --filter $(ALONE)
	$(SWIFT) test --skip-build --filter PushSimulationTests
	$(MAKE) test-core-only examples

# The unit test targets only: no external program, no real peer.
test-unit: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '^IntegrationTests\.' --skip PushSimulationTests
	$(SWIFT) test --skip-build --filter PushSimulationTests

# The push pipeline's deterministic simulation on SEEDS fresh seeds (make test runs 1,000
# fixed and 1,000 fresh ones). A failure prints its seed and shortest failing steps; replay
# with SIMULATION_SEED=<seed> (add SIMULATION_TRACE=1 for every step).
SEEDS ?= 10000
simulate: deps-test
	$(SWIFT) build --build-tests
	SIMULATION_SEEDS=$(SEEDS) $(SWIFT) test --skip-build --filter 'PushSimulationTests/freshSeeds'

# A package that depends only on the ConveyorMetrics product builds where the C libraries'
# headers and pkg-config files are hidden (a private mount namespace), compiles no C target and
# no SwiftNIO module, and runs.
test-core-only:
	Tests/Fixtures/CoreOnlyConsumer/build-without-c-libraries.sh $(SWIFT) $(CURDIR)/.build-core-only

# Builds Examples/ (each its own package with a path dependency on this one).
examples: deps
	$(SWIFT) build --package-path Examples/MinimalRouter --scratch-path $(CURDIR)/.build-examples

# DocC catalogs of the four library products, into .build/docs/<Product>.
DOC_TARGETS := ConveyorMetrics ConveyorMetricsExporter ConveyorMetricsRemoteWrite ConveyorMetricsTestKit
docs: deps
	@mkdir -p .build/docs; for t in $(DOC_TARGETS); do \
	  $(SWIFT) package --disable-sandbox --allow-writing-to-directory .build/docs \
	    generate-documentation --target $$t --output-path .build/docs/$$t --warnings-as-errors || exit 1; \
	done

FORMAT_PATHS := Package.swift Sources Tests Examples/MinimalRouter/Package.swift Examples/MinimalRouter/Sources

format:
	$(SWIFT) format --in-place --recursive $(FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive $(FORMAT_PATHS)

clean:
	rm -rf .build

# Regenerates the protobuf-c code of Proto/ (committed; `make check-proto` fails when stale).
# Each entry is <C target>:<proto file without .proto>; headers go to the target's include/.
# CRemoteWriteProto: remote write 1.0 and 2.0 (the RemoteWrite product and the TestKit).
# CClientModelProto: client_model's metrics.proto and the timestamp.proto it imports (vendored
# in Proto/google/protobuf: protobuf-c ships no well-known types); only tests use it, to decode
# the protobuf exposition the core writes by hand.
PROTO_FILES := CRemoteWriteProto:prometheus_remote_write CRemoteWriteProto:io_prometheus_write_v2 \
  CClientModelProto:io_prometheus_client_metrics CClientModelProto:google/protobuf/timestamp
proto:
	$(call apt_install,protobuf-c-compiler)
	for entry in $(PROTO_FILES); do \
	  out=Sources/$${entry%%:*}; f=$${entry#*:}; \
	  protoc-c --proto_path=Proto --c_out=$$out Proto/$$f.proto && \
	  mkdir -p $$out/include/$$(dirname $$f) && \
	  mv $$out/$$f.pb-c.h $$out/include/$$f.pb-c.h || exit 1; \
	done

check-proto:
	$(call apt_install,protobuf-c-compiler)
	@tmp=$$(mktemp -d); rc=0; \
	for entry in $(PROTO_FILES); do \
	  out=Sources/$${entry%%:*}; f=$${entry#*:}; \
	  protoc-c --proto_path=Proto --c_out=$$tmp Proto/$$f.proto && \
	  diff -u $$out/$$f.pb-c.c $$tmp/$$f.pb-c.c && \
	  diff -u $$out/include/$$f.pb-c.h $$tmp/$$f.pb-c.h || rc=1; \
	done; \
	[ $$rc = 0 ] && echo "generated protobuf-c code is up to date"; rm -rf $$tmp; exit $$rc

# Benchmarks (a separate package): ours and swift-prometheus 2.4.1 in the same run, one table.
bench: deps
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3 >/dev/null; }
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --format markdown --no-progress \
	  --time-units nanoseconds > .bench-results.md 2>&1 || { cat .bench-results.md; exit 1; }
	cd Benchmarks && $(SWIFT) run -c release ResidentMemoryProbe > .bench-resident.txt
	python3 Benchmarks/summarize.py Benchmarks/.bench-resident.txt Benchmarks/.bench-sizes.txt < Benchmarks/.bench-results.md
	$(MAKE) bench-instructions

# Instructions per operation under valgrind's callgrind (the same counts on a busy machine):
# InstructionProbe runs each operation with two iteration counts; set-up cancels out.
# valgrind 3.19 cannot read the Swift binary's debug info, so it runs on a stripped copy.
bench-instructions: deps
	$(call apt_install,valgrind python3)
	cd Benchmarks && $(SWIFT) build -c release --product InstructionProbe
	objcopy --strip-debug Benchmarks/.build/release/InstructionProbe Benchmarks/.build/InstructionProbe.stripped
	python3 Benchmarks/instructions.py Benchmarks/.build/InstructionProbe.stripped

# Push pipelines side by side (Benchmarks/bench_push.py, 16-26 minutes): PushBenchRouter
# (13,400 series, release build) pushing with a RemoteWriter (memory and disk queue) against the
# same router scraped every second by vmagent 1.79 and by Prometheus 2.42 in agent mode, each into
# a fresh VictoriaMetrics behind a proxy that delays every request (100 ms) and answers 503 for a
# 60 s outage. One table: CPU over idle, peak RSS, samples per series, catch-up times, losses.
# vmagent comes with Debian's victoria-metrics package. JOBS=1 builds on one core (a shared machine).
# Options: BENCH_PUSH_DELAY_MS, BENCH_PUSH_STEADY_S, BENCH_PUSH_OUTAGE_S, BENCH_PUSH_PIPELINES
# (see the script); a smoke run: make bench-push BENCH_PUSH_STEADY_S=10 BENCH_PUSH_OUTAGE_S=10
BENCH_PUSH_DEPS := victoria-metrics prometheus python3
bench-push: deps
	$(call apt_install,$(BENCH_PUSH_DEPS))
	cd Benchmarks && $(SWIFT) build -c release $(if $(JOBS),-j $(JOBS)) --product PushBenchRouter
	cd Benchmarks && $(SWIFT) build -c release $(if $(JOBS),-j $(JOBS)) --product PushOrderCheck
	python3 Benchmarks/bench_push.py Benchmarks/.build/release/PushBenchRouter

# The suite under ThreadSanitizer / AddressSanitizer (own build folders; the real-binary
# suites run in `make test`).
# The 60 s outage test counts snapshots per second, which a sanitized build cannot keep up
# with on 2 cores; `make test` runs it.
# The simulation is single-threaded: sanitized runs take 100 fixed and 100 fresh seeds.
# Tests run one at a time (--no-parallel): a sanitized build is 5-20x slower, and 280 tests
# at once on 2 cores ran timing-bound ones (real Prometheus, TLS, retries) past their bounds.
SANITIZER_SIMULATION := SIMULATION_FIXED_SEEDS=100 SIMULATION_SEEDS=100
SANITIZER_SKIP := PushSimulationTests|RealReceiverTests|ExecutableTests|DemoKillRestartTests|ExporterFloodTests|noSecretInCheckConfigOutput|aSixtySecondOutageAtOneSecondIntervalsLosesNothing
test-tsan: deps-test
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	CONVEYOR_SANITIZER=thread TSAN_OPTIONS=suppressions=$(CURDIR)/.ci/tsan-suppressions.txt \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --no-parallel --skip '$(SANITIZER_SKIP)'
	CONVEYOR_SANITIZER=thread TSAN_OPTIONS=suppressions=$(CURDIR)/.ci/tsan-suppressions.txt $(SANITIZER_SIMULATION) \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter PushSimulationTests

test-asan: deps-test
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	CONVEYOR_SANITIZER=address LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan-suppressions.txt \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --no-parallel --skip '$(SANITIZER_SKIP)'
	CONVEYOR_SANITIZER=address LSAN_OPTIONS=suppressions=$(CURDIR)/.ci/lsan-suppressions.txt $(SANITIZER_SIMULATION) \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --filter PushSimulationTests

# Fuzzing with libFuzzer (swiftc -sanitize=fuzzer,address), FUZZ_TIME seconds per target.
# Corpus grows in .fuzz/<target>; findings land in .fuzz/crashes/<target>/ — copy each to
# Fuzz/regressions/<target>/ so the test suite replays it from then on.
FUZZ_TIME    ?= 180
FUZZ_TARGETS ?= receiver config exposition native-histogram
fuzz: deps
	$(SWIFT) build -c release --scratch-path .build-fuzz --product conveyor-metrics-fuzz \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@status=0; for t in $(FUZZ_TARGETS); do \
	  mkdir -p .fuzz/$$t .fuzz/crashes/$$t; \
	  echo "== $$t: fuzzing for $(FUZZ_TIME) s"; \
	  CONVEYOR_FUZZ_TARGET=$$t .build-fuzz/release/conveyor-metrics-fuzz .fuzz/$$t Fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=128 \
	    -artifact_prefix=.fuzz/crashes/$$t/ -print_final_stats=1 > .fuzz/$$t.log 2>&1 || status=1; \
	  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb" .fuzz/$$t.log; \
	  echo "   corpus: $$(ls .fuzz/$$t | wc -l) inputs; findings: $$(ls .fuzz/crashes/$$t | wc -l)"; \
	  grep -A20 -E "^==[0-9]+==ERROR|Fatal error|deadly signal" .fuzz/$$t.log | head -40; \
	done; exit $$status

# Writes the seed corpus (Fuzz/corpus/) from FuzzTarget.seeds.
fuzz-seeds: build
	$(SWIFT) run conveyor-metrics-fuzz --write-seeds Fuzz/corpus
