#!/bin/sh
# records each call as one line
dir=$(cd "$(dirname "$0")/.." && pwd)
flock "$dir/remote.log" sh -c 'echo "$*" >> "$0"' "$dir/remote.log" "$@"
