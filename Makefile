# subsync — see README.md. Every target works on a fresh machine with Go 1.26.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 10s

.PHONY: build test test-short bench demo lint fuzz tools proto clean alerts-test chart-check

build:
	$(GO) build -o bin/ ./cmd/...

test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

test-short:
	$(GO) test -count=1 -short $(PKGS)

# Fuzz every decoder for FUZZTIME each (CI uses a short time).
fuzz:
	./.ci/fuzz.sh $(FUZZTIME)

# Unit tests of the Prometheus alert rules (needs promtool:
# .ci/install-promtool.sh installs it on Debian).
alerts-test:
	promtool check rules deploy/prometheus/subsync-alerts.yaml
	cd deploy/prometheus && promtool test rules subsync-alerts_test.yaml

# Render the Helm chart with Helm's Go packages and check it against the
# daemon and the Dockerfile (its own module: no Kubernetes dependencies in
# the daemon's).
chart-check:
	cd deploy/chartcheck && $(GO) vet ./... && $(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./ackset/ ./mapping/ ./snapshot/ ./integration/...

demo:
	$(GO) run ./cmd/subsync demo

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Regenerate the emulator's protobuf code (needs protoc and protoc-gen-go;
# the generated file is committed, so builds never need this).
proto:
	cd integration && protoc -I . --go_out=. --go_opt=paths=source_relative wire/simwire.proto

clean:
	rm -rf bin
