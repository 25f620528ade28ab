#!/usr/bin/env bash
# Builds the deframer fuzzer (clang, libFuzzer, ASan + UBSan) and runs it on a copy of the seed corpus.
# Usage: npm run fuzz -- -max_total_time=60   (any libFuzzer flags)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/native/fuzz/out"
cmake -S "$root" -B "$out/build" -G Ninja -DFUZZ=ON -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" >/dev/null
cmake --build "$out/build" >/dev/null
mkdir -p "$out/corpus"
cp -n "$root"/native/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec "$out/build/deframer_fuzz" -rss_limit_mb=1024 -max_len=300000 "$@" "$out/corpus"
