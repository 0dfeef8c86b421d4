#!/bin/sh
# Installs what the test suite needs on a Debian machine: the real mon and
# its clients (compatibility peers), fping, snmpd, m4, ipvsadm and the
# password tools the auth tests hash with, and prometheus (its promtool
# checks the /metrics exposition), etcd-server (the cluster tests start
# their own etcd members) and BIND's named (the dnsupdate tests run their
# own dynamic zone); then the Go modules.
# Safe to run repeatedly: it installs only what is missing.
set -eu

PKGS="gcc libc6-dev mon mon-client fping snmpd snmp m4 ipvsadm apache2-utils whois openssl perl iproute2 procps prometheus msmtp etcd-server bind9 chromium lintian groff-base"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "installing:$missing"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# The mon, snmpd, prometheus and bind9 packages start daemons; tests run
	# their own instances.
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	for svc in mon snmpd prometheus prometheus-node-exporter etcd named; do
		$SUDO systemctl stop "$svc" 2>/dev/null || $SUDO service "$svc" stop 2>/dev/null || true
	done
fi
go mod download
