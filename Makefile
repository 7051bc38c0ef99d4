# tlspcap: see README.md. Every target runs on a fresh clone; `make pcaps`
# and `make expect` need root and Debian packages (they install them).
GO       ?= go
# Go 1.27.3, fetched by the go command from the Go module proxy: Go
# 1.26.8's standard library has vulnerabilities the code reaches (see
# lint). GOTOOLCHAIN=local (or another version) on the command line wins.
export GOTOOLCHAIN ?= go1.27.3
# No cgo in any binary or test build: nothing in tlspcap needs it, and a
# cgo binary (glibc malloc arenas) dies with "fatal error: out of memory"
# in some runs under an address-space limit (ulimit -v 1 GiB: 9 and 18
# of 200 runs, none without cgo). `make build` (and so `make test`) checks
# the binary it built has no cgo.
export CGO_ENABLED ?= 0
BIN      := bin/tlspcap
FUZZTIME ?= 30s
PKGS     := ./...

.PHONY: build test bench fuzz fuzz-captures malformed pcaps expect lint clean release

build:
	$(GO) build -o $(BIN) ./cmd/tlspcap
	@$(GO) version -m $(BIN) | grep -q 'CGO_ENABLED=0' || { rm -f $(BIN); echo "$(BIN) was built with cgo (CGO_ENABLED=$$($(GO) env CGO_ENABLED)); build it with CGO_ENABLED=0"; exit 1; }

# The test command CI runs; under a few minutes on 2 cores.
test: build
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

# The red-team kit. fuzz-captures mutates real captures (testdata and
# ../shared/pcaps: bit flips, cuts, records reordered, repeated or dropped,
# length fields, gzip) and runs every subcommand and format of bin/tlspcap
# on each, twice: exit codes 0/1/2 only, no panic, valid JSON, the same
# output both times, peak RSS under FUZZ_CAPTURES_RSS MiB. Failing inputs
# are saved in FUZZ_CAPTURES_OUT with a report. Not run by CI.
FUZZ_CAPTURES_TIME  ?= 2m
FUZZ_CAPTURES_COUNT ?= 0
FUZZ_CAPTURES_SEED  ?= 0
FUZZ_CAPTURES_RSS   ?= 512
FUZZ_CAPTURES_OUT   ?= bin/fuzz-captures
fuzz-captures: build
	$(GO) run ./internal/capfuzz -bin $(BIN) -duration $(FUZZ_CAPTURES_TIME) -count $(FUZZ_CAPTURES_COUNT) \
	  -seed $(FUZZ_CAPTURES_SEED) -max-rss $(FUZZ_CAPTURES_RSS) -out $(FUZZ_CAPTURES_OUT)

# The structured hostile captures of testdata/malformed (the robustness
# tests read them; TestCommittedCapturesUpToDate checks they are current).
malformed:
	$(GO) run ./internal/malformed -out testdata/malformed

# Rebuild the ground-truth captures from real TLS stacks (root, Debian).
pcaps:
	./testdata/gen/build-mbedtls.sh
	$(GO) run ./testdata/gen/scenarios -out testdata/pcaps

# Store tshark's view of the test captures for the cross-check tests.
expect:
	./testdata/tshark/expect.sh

# Static binaries (no cgo, no libpcap) for a PC or a lab AP, into dist/
# with SHA256SUMS: linux/arm for ARMv7 APs, linux/mips and mipsle with
# soft float as OpenWrt builds them. The version is main.go's plus the commit.
RELEASE_TARGETS ?= linux/amd64 linux/arm64 linux/arm linux/mipsle linux/mips
VERSION ?= $(shell sed -n 's/^var version = "\(.*\)"/\1/p' cmd/tlspcap/main.go)+$(shell git describe --always --dirty 2>/dev/null || echo unknown)
release:
	@mkdir -p dist
	@set -e; for t in $(RELEASE_TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; \
	  echo "== $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=7 GOMIPS=softfloat \
	    $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)' -o dist/tlspcap-$$os-$$arch ./cmd/tlspcap; \
	done
	cd dist && sha256sum tlspcap-* > SHA256SUMS
	@ls -l dist

# gofmt, go vet, staticcheck and govulncheck at pinned versions from the Go
# module proxy (the first run builds them: minutes on 2 cores). govulncheck
# reads its database at vuln.go.dev; when that cannot be reached, it reads
# one built into bin/vulndb by ./internal/vulndb from the OSV entries of the
# pinned golang.org/x/vulndb snapshot, which the module proxy serves (fetched
# from a throwaway module so the project's go.mod and go.sum stay as they
# are). Either way the target says which database it used and fails on
# findings (govulncheck exits 3). Only when neither can be had does it say
# NOT RUN and go on; LINT_VULN=require makes that an error.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB      ?= golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
LINT_VULN   ?= try
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -w needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)
	@echo "$(GO) run $(GOVULNCHECK) $(PKGS)"; \
	out=$$($(GO) run $(GOVULNCHECK) $(PKGS) 2>&1); rc=$$?; \
	if [ $$rc -eq 0 ] || ! echo "$$out" | grep -q 'fetching vulnerabilities'; then \
	  echo "govulncheck: database: vuln.go.dev"; echo "$$out"; exit $$rc; \
	fi; \
	echo "govulncheck: vuln.go.dev cannot be reached ($$(echo "$$out" | grep -m1 'fetching vulnerabilities')); using $(VULNDB) from the Go module proxy"; \
	tmp=$$(mktemp -d) && printf 'module lintvulndb\n' > $$tmp/go.mod && \
	dl=$$(cd $$tmp && GOWORK=off GOFLAGS=-mod=mod $(GO) mod download -json $(VULNDB) 2>&1); dlrc=$$?; rm -rf $$tmp; \
	dir=$$(echo "$$dl" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
	info=$$(echo "$$dl" | sed -n 's/^[[:space:]]*"Info": "\(.*\)",*$$/\1/p'); \
	if [ $$dlrc -ne 0 ] || [ ! -d "$$dir/data/osv" ] || [ ! -f "$$info" ]; then \
	  echo "$$dl"; \
	  echo "govulncheck: NOT RUN: neither vuln.go.dev nor $(VULNDB) from the Go module proxy can be had here (LINT_VULN=require makes this an error)"; \
	  [ "$(LINT_VULN)" != require ]; exit; \
	fi; \
	snap=$$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$$info"); \
	rm -rf bin/vulndb && mkdir -p bin && \
	$(GO) run ./internal/vulndb -osv "$$dir/data/osv" -modified "$$snap" -out bin/vulndb || exit 1; \
	echo "govulncheck: database: $(VULNDB), the snapshot of $${snap%%T*} from the Go module proxy"; \
	echo "$(GO) run $(GOVULNCHECK) -db file://$(CURDIR)/bin/vulndb $(PKGS)"; \
	$(GO) run $(GOVULNCHECK) -db file://$(CURDIR)/bin/vulndb $(PKGS)

clean:
	rm -rf bin
