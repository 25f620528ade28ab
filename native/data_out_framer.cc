#include "data_out_framer.h"

#include <algorithm>
#include <cstring>

#include "crc32c.h"

namespace iscsi {
namespace {

constexpr uint8_t kOpcodeDataOut = 0x05;
constexpr uint8_t kFinal = 0x80;
constexpr uint32_t kMaxSegment = 0xffffff;  // DataSegmentLength is 24 bits
const uint8_t kZeros[4] = {0, 0, 0, 0};

void Put32(uint8_t* at, uint32_t value) {
  at[0] = static_cast<uint8_t>(value >> 24);
  at[1] = static_cast<uint8_t>(value >> 16);
  at[2] = static_cast<uint8_t>(value >> 8);
  at[3] = static_cast<uint8_t>(value);
}

// Digests go on the wire least significant byte first (RFC 7143 §13.1, as lib/wire/crc32c.ts writeDigest).
void PutDigest(uint8_t* at, uint32_t crc) {
  at[0] = static_cast<uint8_t>(crc);
  at[1] = static_cast<uint8_t>(crc >> 8);
  at[2] = static_cast<uint8_t>(crc >> 16);
  at[3] = static_cast<uint8_t>(crc >> 24);
}

}  // namespace

size_t DataOutPduCount(const DataOutBurst& burst) {
  if (burst.max_segment == 0) return 0;
  return (static_cast<size_t>(burst.length) + burst.max_segment - 1) / burst.max_segment;
}

bool DataOutBurstFits(const DataOutBurst& burst, size_t source_length) {
  return burst.max_segment != 0 && burst.max_segment <= kMaxSegment && static_cast<size_t>(burst.offset) + burst.length <= source_length;
}

bool FrameDataOut(const DataOutBurst& burst, const uint8_t* source, size_t source_length, uint8_t* arena,
                  std::vector<WireChunk>* out) {
  if (!DataOutBurstFits(burst, source_length)) return false;
  const size_t end = static_cast<size_t>(burst.offset) + burst.length;
  uint32_t data_sn = 0;
  for (size_t at = burst.offset; at < end; at += burst.max_segment, data_sn++) {
    const uint32_t size = static_cast<uint32_t>(std::min<size_t>(burst.max_segment, end - at));
    uint8_t* header = arena;
    uint8_t* trailer = arena + kDataOutHeaderSlot;
    arena += kDataOutArenaPerPdu;
    memset(header, 0, 48);
    header[0] = kOpcodeDataOut;
    header[1] = at + size >= end ? kFinal : 0;
    header[5] = static_cast<uint8_t>(size >> 16);
    header[6] = static_cast<uint8_t>(size >> 8);
    header[7] = static_cast<uint8_t>(size);
    memcpy(header + 8, burst.lun, 8);
    Put32(header + 16, burst.itt);
    Put32(header + 20, burst.ttt);
    Put32(header + 28, burst.exp_stat_sn);
    Put32(header + 36, data_sn);
    Put32(header + 40, static_cast<uint32_t>(at));
    size_t header_length = 48;
    if (burst.header_digest) {
      PutDigest(header + 48, Crc32c(0, header, 48));
      header_length += 4;
    }
    out->push_back({header, header_length});
    out->push_back({source + at, size});
    const size_t pad = (4 - size % 4) % 4;
    size_t trailer_length = pad;
    memset(trailer, 0, pad);
    if (burst.data_digest) {
      // The data digest covers the padding too.
      PutDigest(trailer + pad, Crc32c(Crc32c(0, source + at, size), kZeros, pad));
      trailer_length += 4;
    }
    if (trailer_length > 0) out->push_back({trailer, trailer_length});
  }
  return true;
}

}  // namespace iscsi
