// libFuzzer harness for the Data-Out framer (data_out_framer.h), as a round trip: whatever burst the input
// describes is either refused (outside its buffer, an unusable segment size) or framed into PDUs that our own
// deframer, in the target role with the same digests and MaxRecvDataSegmentLength, parses without error into
// exactly the expected sequence (DataSN from 0, F on the last, offsets in order) with every byte of the burst in
// the task buffer at its offset and nothing outside it. Under ASan + UBSan, like the deframer fuzzer (run.sh).
//
// Input layout: [flags, max_segment (2 bytes LE, +1), offset (2 bytes LE), length (3 bytes LE), split seed, source...].
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "data_out_framer.h"
#include "pdu_deframer.h"

using iscsi::DataOutBurst;
using iscsi::Deframer;
using iscsi::DeframerRole;
using iscsi::WireChunk;

static void Require(bool condition) {
  if (!condition) __builtin_trap();
}

static uint32_t Be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  DataOutBurst burst{};
  const uint8_t flags = data[0];
  burst.header_digest = flags & 1;
  burst.data_digest = flags & 2;
  // 0 stays reachable (it must be refused); otherwise 1..65536, small ones make many PDUs.
  burst.max_segment = (flags & 4) ? 0 : static_cast<uint32_t>(data[1] | (data[2] << 8)) + 1;
  burst.offset = static_cast<uint32_t>(data[3] | (data[4] << 8));
  burst.length = static_cast<uint32_t>(data[5] | (data[6] << 8) | (data[7] << 16));
  const uint8_t split = data[8] | 1;
  burst.itt = 0x1234;
  burst.ttt = 0xabcd;
  burst.exp_stat_sn = 7;
  const uint8_t* source = data + 9;
  const size_t source_length = size - 9;

  const bool valid = burst.max_segment != 0 && size_t{burst.offset} + burst.length <= source_length;
  Require(iscsi::DataOutBurstFits(burst, source_length) == valid);
  std::vector<WireChunk> chunks;
  if (!valid) {
    uint8_t unused[iscsi::kDataOutArenaPerPdu];
    Require(!iscsi::FrameDataOut(burst, source, source_length, unused, &chunks) && chunks.empty());
    return 0;
  }
  const size_t pdus = iscsi::DataOutPduCount(burst);
  std::vector<uint8_t> arena(pdus * iscsi::kDataOutArenaPerPdu);
  Require(iscsi::FrameDataOut(burst, source, source_length, arena.data(), &chunks));
  std::vector<uint8_t> wire;
  for (const WireChunk& c : chunks) wire.insert(wire.end(), c.data, c.data + c.length);

  Deframer deframer(DeframerRole::kTarget);
  deframer.SetDigests(burst.header_digest, burst.data_digest);
  deframer.SetMaxDataSegmentLength(burst.max_segment);
  std::vector<uint8_t> task(source_length, 0);
  deframer.RegisterTask(burst.itt, task.data(), task.size());
  // Fed in pieces of up to `split` bytes, as reads would deliver it.
  size_t events = 0;
  uint32_t expected_offset = burst.offset;
  for (size_t at = 0; at < wire.size();) {
    const size_t n = std::min<size_t>(split, wire.size() - at);
    Require(deframer.Consume(wire.data() + at, n));
    const uint8_t* headers = deframer.header_arena().data();
    for (const auto& event : deframer.events()) {
      Require(event.opcode == 0x05 && event.itt == burst.itt);
      const uint8_t* h = headers + event.header_offset;
      Require(Be32(h + 20) == burst.ttt && Be32(h + 28) == burst.exp_stat_sn);
      Require(Be32(h + 36) == events);  // DataSN
      Require(Be32(h + 40) == expected_offset);
      Require(event.data_length == std::min<uint32_t>(burst.max_segment, burst.offset + burst.length - expected_offset));
      expected_offset += event.data_length;
      Require(((h[1] & 0x80) != 0) == (events + 1 == pdus));  // F on the last PDU only
      events++;
    }
    deframer.ClearEvents();
    at += n;
  }
  Require(events == pdus);
  Require(burst.length == 0 || memcmp(task.data() + burst.offset, source + burst.offset, burst.length) == 0);
  for (size_t i = 0; i < task.size(); i++) {
    if (i < burst.offset || i >= size_t{burst.offset} + burst.length) Require(task[i] == 0);
  }
  return 0;
}
