# gomon — see README.md. Every target works on a fresh Debian machine with Go.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
MONDIR  ?= $(PREFIX)/lib/gomon/mon.d
ALERTDIR?= $(PREFIX)/lib/gomon/alert.d
BIN     := bin

# The drop-in scripts are links to the one multi-call binary, which picks
# the monitor or alert to run from its own name (argv[0]).
DROPIN_MONITORS := fping.monitor ping.monitor tcp.monitor http.monitor ftp.monitor \
	smtp.monitor dns.monitor imap.monitor pop3.monitor ps.monitor freespace.monitor \
	loadavg.monitor snmpdiskspace.monitor dns-query.monitor
DROPIN_ALERTS := mail.alert file.alert trap.alert lvs.alert

.PHONY: all build test deps vet fuzz bench run install clean

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

run:
	$(GO) run ./cmd/mon --embedded-config

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MONDIR) $(DESTDIR)$(ALERTDIR)
	install -m 755 $(BIN)/mon $(BIN)/moncmd $(DESTDIR)$(BINDIR)/
	for m in $(DROPIN_MONITORS); do ln -sf $(BINDIR)/mon $(DESTDIR)$(MONDIR)/$$m; done
	for a in $(DROPIN_ALERTS); do ln -sf $(BINDIR)/mon $(DESTDIR)$(ALERTDIR)/$$a; done

clean:
	rm -rf $(BIN)
