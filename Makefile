# tlspcap: see README.md. Every target runs on a fresh clone; `make pcaps`
# and `make expect` need root and Debian packages (they install them).
GO       ?= go
BIN      := bin/tlspcap
FUZZTIME ?= 30s
PKGS     := ./...

.PHONY: build test bench fuzz pcaps expect lint clean

build:
	$(GO) build -o $(BIN) ./cmd/tlspcap

# The test command CI runs; under a few minutes on 2 cores.
test:
	@mkdir -p bin
	$(GO) vet $(PKGS)
	TLSPCAP_SUMMARY=$(CURDIR)/bin/diagnosis-summary.txt $(GO) test -count=1 $(PKGS)
	@cat bin/diagnosis-summary.txt 2>/dev/null || true

# Go benchmarks, then one whole-process comparison on a generated capture
# (tlspcap, the floor, tshark, cat): see BENCHMARKS.md.
BIGCAP  ?= /tmp/tlspcap-big.pcap
BIGSIZE ?= 1GiB
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	test -s $(BIGCAP) || $(GO) run ./testdata/gen/bigcap -size $(BIGSIZE) -out $(BIGCAP)
	./bench/compare.sh $(BIGCAP)

# Each fuzz target for FUZZTIME (go test -fuzz runs one target at a time).
# A failing run is repeated (up to 3 runs): a real crasher is saved under
# testdata/fuzz and fails again at once, while the fuzzing engine's rare
# failure with no crasher at the end of -fuzztime does not repeat.
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Rebuild the ground-truth captures from real TLS stacks (root, Debian).
pcaps:
	./testdata/gen/build-mbedtls.sh
	$(GO) run ./testdata/gen/scenarios -out testdata/pcaps

# Store tshark's view of the test captures for the cross-check tests.
expect:
	./testdata/tshark/expect.sh

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
