// ARMv8 CRC32C with the CRC32 extension (__crc32cd). As on x86, three independent streams hide the instruction's
// latency; they are joined with a carry-less multiply done in software (two per round of up to 12 KiB, so its
// cost is small) to avoid requiring the crypto extension as well. Compiled per function for +crc; the caller
// checks HWCAP_CRC32 before calling.
#pragma once
#if defined(__aarch64__)
#include <arm_acle.h>
#include <sys/auxv.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crc32c_tables.h"

#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

#define ISCSI_CRC32C_TARGET_ARM64 __attribute__((target("+crc")))

namespace iscsi::crc32c_detail {

// The software multiply makes joining lanes dearer than on x86; an estimate, not measured on arm64 hardware.
constexpr size_t kArm64ThreeWayMinBytes = 216;

inline uint64_t CarrylessMultiply32(uint32_t a, uint32_t b) {
  uint64_t product = 0;
  for (int i = 0; i < 32; i++) product ^= (uint64_t(b) << i) & (0 - uint64_t((a >> i) & 1));
  return product;
}

ISCSI_CRC32C_TARGET_ARM64 inline uint64_t LoadWordArm64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // aarch64 Linux is little-endian, like the crc32c instructions expect
}

ISCSI_CRC32C_TARGET_ARM64 inline uint32_t ThreeLanesArm64(uint32_t c, const uint8_t* p, size_t words) {
  const uint8_t* pb = p + 8 * words;
  const uint8_t* pc = pb + 8 * words;
  uint32_t a = c, b = 0, d = 0;
  for (size_t i = 0; i < 8 * words; i += 8) {
    a = __crc32cd(a, LoadWordArm64(p + i));
    b = __crc32cd(b, LoadWordArm64(pb + i));
    d = __crc32cd(d, LoadWordArm64(pc + i));
  }
  uint64_t shifted = CarrylessMultiply32(a, kShift.two_lanes[words]) ^ CarrylessMultiply32(b, kShift.one_lane[words]);
  return __crc32cd(0, shifted) ^ d;
}

ISCSI_CRC32C_TARGET_ARM64 inline uint32_t ExtendArm64(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  if (n >= kArm64ThreeWayMinBytes) {
    for (; n >= 24 * kMaxLaneWords; n -= 24 * kMaxLaneWords, p += 24 * kMaxLaneWords)
      c = ThreeLanesArm64(c, p, kMaxLaneWords);
    if (n >= kArm64ThreeWayMinBytes) {
      size_t words = n / 24;
      c = ThreeLanesArm64(c, p, words);
      p += 24 * words;
      n -= 24 * words;
    }
  }
  for (; n >= 8; n -= 8, p += 8) c = __crc32cd(c, LoadWordArm64(p));
  if (n & 4) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    c = __crc32cw(c, v);
    p += 4;
  }
  if (n & 2) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    c = __crc32ch(c, v);
    p += 2;
  }
  if (n & 1) c = __crc32cb(c, *p);
  return ~c;
}

inline bool Arm64Supported() { return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0; }

}  // namespace iscsi::crc32c_detail
#endif  // __aarch64__
