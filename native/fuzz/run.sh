#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer, ASan + UBSan) and runs the deframer's on a copy of the seed corpus.
# Usage: npm run fuzz -- -max_total_time=60   (any libFuzzer flags)
#        FUZZER=data_out_framer_fuzz npm run fuzz -- -max_total_time=60   (the Data-Out framer round trip, no corpus)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/native/fuzz/out"
cmake -S "$root" -B "$out/build" -G Ninja -DFUZZ=ON -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++}" >/dev/null
cmake --build "$out/build" >/dev/null
mkdir -p "$out/corpus"
cp -n "$root"/native/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
if [ "${FUZZER:-deframer_fuzz}" = data_out_framer_fuzz ]; then
  mkdir -p "$out/corpus-data-out"
  exec "$out/build/data_out_framer_fuzz" -rss_limit_mb=1024 -max_len=70000 "$@" "$out/corpus-data-out"
fi
exec "$out/build/deframer_fuzz" -rss_limit_mb=1024 -max_len=300000 "$@" "$out/corpus"
