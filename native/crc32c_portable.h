// Portable CRC32C: slicing-by-8 (8 table lookups per 8 bytes), for CPUs without a crc32 instruction.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crc32c_tables.h"

namespace iscsi::crc32c_detail {

inline uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t size) {
  const auto& t = kSlicing.t;
  uint32_t c = ~crc;
  for (; size >= 8; size -= 8, data += 8) {
    // Assemble little-endian words byte by byte so the code is also right on big-endian hosts.
    uint32_t lo = c ^ (uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24);
    uint32_t hi = uint32_t(data[4]) | uint32_t(data[5]) << 8 | uint32_t(data[6]) << 16 | uint32_t(data[7]) << 24;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; size != 0; size--) c = t[0][(c ^ *data++) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace iscsi::crc32c_detail
