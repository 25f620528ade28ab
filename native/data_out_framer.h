// Frames one Data-Out sequence (RFC 7143 §11.7): the Data-Out PDUs answering an R2T, or a write's unsolicited data,
// as a gather list over the caller's buffer. Only the 48-byte headers (with their digest) and each segment's padding
// and data digest are written, into one arena the caller provides; the payload is never copied. One call frames a
// whole burst, so a 64 KiB write to an 8 KiB MaxRecvDataSegmentLength target costs one call, not eight encodes.
//
// Pure C++ without Node-API: the sanitizer harness links it alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iscsi {

struct WireChunk {
  const uint8_t* data;
  size_t length;
};

struct DataOutBurst {
  uint32_t itt;
  uint8_t lun[8];        // as encoded on the wire (the JS side encodes LUNs in one place: bhs.ts encodeLun)
  uint32_t ttt;          // the R2T's Target Transfer Tag, 0xffffffff for unsolicited data
  uint32_t exp_stat_sn;
  uint32_t offset;       // Buffer Offset of the first byte: also where it is in the source buffer
  uint32_t length;
  uint32_t max_segment;  // the target's MaxRecvDataSegmentLength
  bool header_digest;
  bool data_digest;
};

// Arena bytes per PDU: BHS + header digest, then up to 3 bytes of padding + data digest.
constexpr size_t kDataOutHeaderSlot = 48 + 4;
constexpr size_t kDataOutTrailerSlot = 8;
constexpr size_t kDataOutArenaPerPdu = kDataOutHeaderSlot + kDataOutTrailerSlot;

// Whether the burst lies inside a source of `source_length` bytes and has a usable segment size: check it before
// sizing an arena from DataOutPduCount (a 1-byte segment size makes a PDU per byte).
bool DataOutBurstFits(const DataOutBurst& burst, size_t source_length);

// How many PDUs the burst takes (0 for an empty burst); 0 also when max_segment is 0 (FrameDataOut refuses it).
size_t DataOutPduCount(const DataOutBurst& burst);

// Appends the burst's PDUs to `out`, headers and trailers in `arena` (DataOutPduCount * kDataOutArenaPerPdu bytes,
// which must outlive the send). DataSN counts from 0 and the last PDU carries F, as each sequence does (§11.7.3).
// False, with nothing appended, when the burst lies outside `source` or max_segment is 0 or above 2^24 - 1.
bool FrameDataOut(const DataOutBurst& burst, const uint8_t* source, size_t source_length, uint8_t* arena,
                  std::vector<WireChunk>* out);

}  // namespace iscsi
