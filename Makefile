# gomon — see README.md. Every target works on a fresh Debian machine with Go.
GO      ?= go
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/sbin
MONDIR  ?= $(PREFIX)/lib/gomon/mon.d
ALERTDIR?= $(PREFIX)/lib/gomon/alert.d
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR ?= /etc/mon
BIN     := bin
# PIE, no build paths, no symbol table (Go's tracebacks do not need it):
# what Debian's hardening, reproducibility and lintian ask.
GOBUILD := $(GO) build -trimpath -buildmode=pie -ldflags=-s\ -w
# The drop-in links point at the binary relative to their directory when
# mon.d and alert.d are as deep (the default), so the tree can move.
DROPIN_REL    = $(shell realpath -m --relative-to=$(MONDIR) $(BINDIR)/mon)
DROPIN_TARGET = $(if $(filter $(DROPIN_REL),$(shell realpath -m --relative-to=$(ALERTDIR) $(BINDIR)/mon)),$(DROPIN_REL),$(BINDIR)/mon)
VERSION := $(shell sed -n 's/^const Gomon = "\(.*\)"/\1/p' internal/version/version.go)

.PHONY: all build test deps vet fuzz bench faults run install deb clean

all: build

build:
	$(GOBUILD) -o $(BIN)/mon ./cmd/mon
	$(GOBUILD) -o $(BIN)/moncmd ./cmd/moncmd

deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# The full test suite, including the conformance scenarios against the
# real mon's golden transcripts and tests with real peers (moncmd, snmpd,
# fping, SMTP/HTTP servers on loopback).
test: deps vet
	$(GO) test -count=1 -timeout 20m $$($(GO) list ./... | grep -v /conformance$$)
	# The recorded scenarios replay mon's timing: they run alone, not
	# beside the packages that start etcd, browsers and scale daemons.
	$(GO) test -count=1 -timeout 10m ./conformance

# 60 s of fuzzing for each fuzz target.
fuzz:
	./scripts/fuzz.sh 60s

# Benchmarks, with the real mon measured in the same run where it applies.
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	GOMON_BENCH=1 $(GO) test -count=1 -run '^TestSchedulerBench$$' -timeout 30m -v ./bench
	GOMON_BENCH=1 $(GO) test -count=1 -run '^TestClusterBench$$' -timeout 30m -v ./bench
	GOMON_BENCH=1 $(GO) test -count=1 -run '^TestScaleBench$$' -timeout 30m -v ./bench

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
	$(BIN)/mon install-dropins --target $(DROPIN_TARGET) $(DESTDIR)$(MONDIR) $(DESTDIR)$(ALERTDIR) >/dev/null
	# The unit and the init script name the paths of this layout.
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/init.d $(DESTDIR)/etc/logrotate.d \
		$(DESTDIR)$(CONFDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1
	sed 's|@SBINDIR@|$(BINDIR)|g; s|@CONFDIR@|$(CONFDIR)|g' packaging/gomon.service.in >$(DESTDIR)$(UNITDIR)/gomon.service
	sed 's|@SBINDIR@|$(BINDIR)|g; s|@CONFDIR@|$(CONFDIR)|g' packaging/gomon.init.in >$(DESTDIR)/etc/init.d/gomon
	chmod 644 $(DESTDIR)$(UNITDIR)/gomon.service
	chmod 755 $(DESTDIR)/etc/init.d/gomon
	install -m 644 packaging/logrotate $(DESTDIR)/etc/logrotate.d/gomon
	gzip -9n <docs/man/mon.8 >$(DESTDIR)$(MANDIR)/man8/mon.8.gz
	gzip -9n <docs/man/moncmd.1 >$(DESTDIR)$(MANDIR)/man1/moncmd.1.gz
	# The example configuration, unless there is one already.
	for f in mon.cf auth.cf; do \
		test -e $(DESTDIR)$(CONFDIR)/$$f || install -m 644 packaging/$$f $(DESTDIR)$(CONFDIR)/$$f; \
	done

# A .deb of the `make install` layout under /usr (dpkg-deb; lintian-clean).
DEB_ROOT = $(abspath $(BIN)/deb)
deb: build
	rm -rf $(DEB_ROOT)
	$(MAKE) install DESTDIR=$(DEB_ROOT) PREFIX=/usr
	install -d $(DEB_ROOT)/DEBIAN $(DEB_ROOT)/usr/share/doc/gomon
	install -m 644 packaging/debian/copyright $(DEB_ROOT)/usr/share/doc/gomon/copyright
	sed 's|@VERSION@|$(VERSION)|g' packaging/debian/changelog.in | gzip -9n >$(DEB_ROOT)/usr/share/doc/gomon/changelog.gz
	install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm $(DEB_ROOT)/DEBIAN/
	cd $(DEB_ROOT) && find etc -type f | sed 's|^|/|' | sort >DEBIAN/conffiles
	sed 's|@VERSION@|$(VERSION)|; s|@ARCH@|'"$$(dpkg --print-architecture)"'|; s|@SIZE@|'"$$(du -ks --exclude=DEBIAN $(DEB_ROOT) | cut -f1)"'|' \
		packaging/debian/control.in >$(DEB_ROOT)/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(BIN)/gomon_$(VERSION)_$$(dpkg --print-architecture).deb

clean:
	rm -rf $(BIN)
