#!/usr/bin/env bash
# Runs mocha with the addon built under ASan and UBSan (npm run build:asan) loaded into Node, so the socket pump,
# the deframer binding and the offload queries are checked on real sockets, beyond what the deframer fuzzer reaches.
# Usage: npm run test:asan [-- test/connection.test.ts ...]   (default: the whole suite)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
addon="$root/build-asan/Release/iscsi_mpio.node"
[ -f "$addon" ] || (cd "$root" && npm run --silent build:asan)
# The sanitizer runtimes must be loaded before anything else in the process (Node is not built with them).
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0  # what Node itself leaves allocated at exit is not ours to report
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ISCSI_MPIO_ADDON="$addon"
[ $# -gt 0 ] || set -- 'test/**/*.test.ts'
cd "$root"
exec npx mocha "$@"
