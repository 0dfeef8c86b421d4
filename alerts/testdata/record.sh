#!/bin/sh
# Records how it was called, for the External tests.
for a in "$@"; do printf '[%s]\n' "$a"; done > "$REC_DIR/argv"
cat > "$REC_DIR/stdin"
env | grep -E '^(MON_|TESTVAR=)' | sort > "$REC_DIR/env"
echo out
echo err >&2
exit "${REC_EXIT:-0}"
