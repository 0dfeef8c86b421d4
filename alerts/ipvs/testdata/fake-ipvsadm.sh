#!/bin/sh
# Stands in for ipvsadm: appends its arguments to $IPVSADM_LOG, answers
# -Ln with a captured listing.
echo "$*" >> "$IPVSADM_LOG"
case "$1" in
-Ln) cat "$(dirname "$0")/ipvsadm-Ln.txt" ;;
-d) echo "Memory allocation problem" >&2; exit 2 ;;
esac
