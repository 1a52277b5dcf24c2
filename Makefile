# subsync — see README.md. Every target works on a fresh machine with Go 1.26.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 10s
# Extra go test flags for the real contract runs, e.g. CONTRACT_FLAGS=-v.
CONTRACT_FLAGS ?=

STATICCHECK_VERSION ?= v0.8.2

.PHONY: alerts-e2e build test test-short test-real test-real-contract test-real-faults test-real-e2e test-real-restarts test-contract-real test-contract-real-3 test-contract-real-batchack bench demo demo-real lint fuzz tools proto clean alerts-test chart-check

build:
	$(GO) build -o bin/ ./cmd/...

test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

# The contract and end-to-end suites against real Apache Pulsar brokers
# (standalone, geo-replicated, from Maven Central; needs Java 17 and mvn):
# one fresh test bed per suite, so that the e2e suite's cluster kills never
# meet the contract tests. PULSAR_VERSION picks the broker.
PULSAR_VERSION ?= 4.0.7
TESTBED = $(GO) run ./cmd/testbed exec --version $(PULSAR_VERSION)
# Contract tests that kill a cluster of the bed run alone, on a bed of
# their own (they would meet the dead cluster in parallel with the rest).
CONTRACT_FAULT_TESTS = ^TestReplicationSkipsTTLExpiredEntries$$
REAL_CONTRACT = $(TESTBED) --ledger-max-entries 10 -- $(GO) test -count=1 -timeout 20m -skip "$(CONTRACT_FAULT_TESTS)" ./integration/contract/
REAL_FAULTS = $(TESTBED) --ledger-max-entries 10 -- $(GO) test -count=1 -timeout 10m -run "$(CONTRACT_FAULT_TESTS)" ./integration/contract/
REAL_E2E = $(TESTBED) --ledger-max-entries 50 -- $(GO) test -count=1 -timeout 30m ./integration/e2e/
# A suite that fails runs once more on a fresh bed, saying so. It came in
# when restarted brokers lost their bookie now and then ("Not enough
# non-faulty bookies available"), which the bed now prevents
# (docs/testbed.md); no measured run since has needed it. Both runs'
# output stays in the log; a second failure fails.
RETRY_ONCE = || { echo "test-real: failed; once more on a fresh test bed";
test-real: test-real-contract test-real-faults test-real-e2e
test-real-contract:
	$(REAL_CONTRACT) $(RETRY_ONCE) $(REAL_CONTRACT); }
test-real-faults:
	$(REAL_FAULTS) $(RETRY_ONCE) $(REAL_FAULTS); }
test-real-e2e:
	$(REAL_E2E) $(RETRY_ONCE) $(REAL_E2E); }

# Kill and restart one cluster of a bed RESTARTS times and watch its bookie
# after each restart (docs/testbed.md, "A killed cluster's ephemeral nodes").
RESTARTS ?= 10
test-real-restarts:
	SUBSYNC_TESTBED_RESTARTS=$(RESTARTS) $(GO) test -count=1 -timeout 30m -v -run '^TestRestartsKeepTheBookie$$' ./integration/testbed/

test-short:
	$(GO) test -count=1 -short $(PKGS)

# The contract suite against real Apache Pulsar clusters (two standalone
# brokers from Maven Central, geo-replicated; needs Java 17 and mvn). The
# first run of a version resolves its jars (minutes); later ones start in
# about 15 s. See docs/emulator.md.
test-contract-real:
	$(GO) run ./cmd/testbed exec -- $(GO) test -count=1 $(CONTRACT_FLAGS) ./integration/contract/

# The same against the newest 3.x line Maven Central serves whole enough
# (3.3.5, with 4.0.7's pulsar-opentelemetry).
test-contract-real-3:
	$(GO) run ./cmd/testbed exec --version 3.3.5 -- $(GO) test -count=1 $(CONTRACT_FLAGS) ./integration/contract/

# Batch-index acknowledgement needs a broker setting: a bed started with it.
test-contract-real-batchack:
	$(GO) run ./cmd/testbed exec --set acknowledgmentAtBatchIndexLevelEnabled=true -- $(GO) test -count=1 $(CONTRACT_FLAGS) -run BatchIndexAck ./integration/contract/

# Fuzz every decoder for FUZZTIME each (CI uses a short time).
fuzz:
	./.ci/fuzz.sh $(FUZZTIME)

# Unit tests of the Prometheus alert rules (needs promtool:
# .ci/install-promtool.sh installs it on Debian).
alerts-test:
	promtool check rules deploy/prometheus/subsync-alerts.yaml
	cd deploy/prometheus && promtool test rules subsync-alerts_test.yaml

# The alert rules end to end: a real Prometheus server scrapes two daemons
# on the emulator while the standby's broker stops and comes back (needs
# the prometheus binary: .ci/install-promtool.sh installs it on Debian).
alerts-e2e:
	@command -v prometheus >/dev/null || { echo "alerts-e2e: no prometheus binary; .ci/install-promtool.sh installs Debian's package"; exit 1; }
	$(GO) test -count=1 -v -run '^TestStandbyBehindAlertFiresAndResolves$$' ./integration/e2e/

# Render the Helm chart with Helm's Go packages and check it against the
# daemon and the Dockerfile (its own module: no Kubernetes dependencies in
# the daemon's).
chart-check:
	cd deploy/chartcheck && $(GO) vet ./... && $(GO) test -count=1 ./...

# The seeded simulation of owner.Decide over 2 and 3 clusters (owner/sim):
# SIM_SEEDS seeds, printing failures (with a replay command) and seeds/s.
SIM_SEEDS ?= 100000
.PHONY: sim
sim:
	$(GO) run ./owner/sim/cmd/simrun -seeds $(SIM_SEEDS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./ackset/ ./mapping/ ./snapshot/ ./integration/...

demo:
	$(GO) run ./cmd/subsync demo

# The same demo on real Apache Pulsar brokers, PIP-33 being the brokers' own.
demo-real:
	$(GO) run ./cmd/subsync demo --real --pulsar-version $(PULSAR_VERSION)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# Regenerate the emulator's protobuf code (needs protoc and protoc-gen-go;
# the generated file is committed, so builds never need this).
proto:
	cd integration && protoc -I . --go_out=. --go_opt=paths=source_relative wire/simwire.proto

clean:
	rm -rf bin
