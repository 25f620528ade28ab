// x86-64 CRC32C by carry-less folding with AVX-512 VPCLMULQDQ: four 512-bit accumulators (256 bytes) are each
// multiplied forward by 256 bytes and XORed with the next 256 bytes, 16 bytes per 128-bit lane per multiply pair,
// which is past the one-crc32-per-cycle ceiling of the crc32 instruction. The 256 folded bytes left at the end are
// congruent to everything before them, so the crc32 path digests them and the tail.
#pragma once
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "crc32c_tables.h"
#include "crc32c_x86.h"

#define ISCSI_CRC32C_TARGET_AVX512 __attribute__((target("avx512f,vpclmulqdq,sse4.2,pclmul")))

namespace iscsi::crc32c_detail {

// Below this the setup and the final 256-byte digest cost more than folding saves.
constexpr size_t kAvx512MinBytes = 1024;
constexpr size_t kFoldBytes = 256;

// A 128-bit lane holds 16 message bytes, the first 8 (low qword) the higher powers. Moving it D bits forward:
// lane·x^D = lo·x^(D+64) + hi·x^D, and a carry-less product of reflected values carries an extra x^33 in a
// 128-bit lane (as in crc32c_tables.h), so the constants are x^(D+64-33) and x^(D-33) mod P.
constexpr uint64_t kFoldLow = XPowerModP(kFoldBytes * 8 + 64 - 33);
constexpr uint64_t kFoldHigh = XPowerModP(kFoldBytes * 8 - 33);

ISCSI_CRC32C_TARGET_AVX512 inline __m512i Fold(__m512i acc, __m512i k, const uint8_t* next) {
  __m512i lo = _mm512_clmulepi64_epi128(acc, k, 0x00);
  __m512i hi = _mm512_clmulepi64_epi128(acc, k, 0x11);
  return _mm512_ternarylogic_epi64(lo, hi, _mm512_loadu_si512(next), 0x96);  // three-way XOR
}

ISCSI_CRC32C_TARGET_AVX512 inline uint32_t ExtendAvx512(uint32_t crc, const uint8_t* p, size_t n) {
  if (n < kAvx512MinBytes) return ExtendX86(crc, p, n);
  // The running state enters as an XOR into the first 4 message bytes (crc32c is linear in both).
  __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(p), _mm512_zextsi128_si512(_mm_cvtsi32_si128(int(~crc))));
  __m512i x1 = _mm512_loadu_si512(p + 64);
  __m512i x2 = _mm512_loadu_si512(p + 128);
  __m512i x3 = _mm512_loadu_si512(p + 192);
  const __m512i k = _mm512_set_epi64(int64_t(kFoldHigh), int64_t(kFoldLow), int64_t(kFoldHigh), int64_t(kFoldLow),
                                     int64_t(kFoldHigh), int64_t(kFoldLow), int64_t(kFoldHigh), int64_t(kFoldLow));
  for (p += kFoldBytes, n -= kFoldBytes; n >= kFoldBytes; p += kFoldBytes, n -= kFoldBytes) {
    x0 = Fold(x0, k, p);
    x1 = Fold(x1, k, p + 64);
    x2 = Fold(x2, k, p + 128);
    x3 = Fold(x3, k, p + 192);
  }
  alignas(64) uint8_t folded[kFoldBytes];
  _mm512_store_si512(folded, x0);
  _mm512_store_si512(folded + 64, x1);
  _mm512_store_si512(folded + 128, x2);
  _mm512_store_si512(folded + 192, x3);
  // The folded bytes already carry the incoming state, so they are digested from a zero state (finished CRC ~0).
  return ExtendX86(ExtendX86(0xFFFFFFFFu, folded, kFoldBytes), p, n);
}

inline bool Avx512Supported() {
  __builtin_cpu_init();
  return X86Supported() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
}

}  // namespace iscsi::crc32c_detail
#endif  // __x86_64__
