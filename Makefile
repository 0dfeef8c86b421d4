# gomon — see README.md. Every target works on a fresh Debian machine with Go.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
MONDIR  ?= $(PREFIX)/lib/gomon/mon.d
ALERTDIR?= $(PREFIX)/lib/gomon/alert.d
BIN     := bin

.PHONY: all build test deps vet fuzz bench faults run install clean

all: build

build:
	$(GO) build -o $(BIN)/mon ./cmd/mon
	$(GO) build -o $(BIN)/moncmd ./cmd/moncmd

deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# The full test suite, including the conformance scenarios against the
# real mon's golden transcripts and tests with real peers (moncmd, snmpd,
# fping, SMTP/HTTP servers on loopback).
test: deps vet
	$(GO) test -count=1 -timeout 20m ./...

# 60 s of fuzzing for each fuzz target.
fuzz:
	./scripts/fuzz.sh 60s

# Benchmarks, with the real mon measured in the same run where it applies.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	GOMON_BENCH=1 $(GO) test -count=1 -run '^TestSchedulerBench$$' -timeout 30m -v ./bench
	GOMON_BENCH=1 $(GO) test -count=1 -run '^TestClusterBench$$' -timeout 30m -v ./bench

# The standing fault suite, long form (10 min soak, 2 min huge line, 600
# mutated configs …); its short form runs with every `go test ./...`.
# See faults/doc.go for what it checks and its knobs.
faults: deps
	GOMON_FAULTS=1 $(GO) test -count=1 -timeout 60m -v ./faults

run:
	$(GO) run ./cmd/mon --embedded-config

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MONDIR) $(DESTDIR)$(ALERTDIR)
	install -m 755 $(BIN)/mon $(BIN)/moncmd $(DESTDIR)$(BINDIR)/
	# The drop-in scripts (fping.monitor, mail.alert…) are links to the one
	# multi-call binary, which picks the built-in from its own name; the
	# names come from the built-ins' registries.
	$(BIN)/mon install-dropins --target $(BINDIR)/mon $(DESTDIR)$(MONDIR) $(DESTDIR)$(ALERTDIR) >/dev/null

clean:
	rm -rf $(BIN)
