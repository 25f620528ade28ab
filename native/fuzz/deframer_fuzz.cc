// libFuzzer harness for the PDU deframer: arbitrary byte streams, split at arbitrary points, read the way the
// socket loop reads them (into staging or straight into task buffers, as PlanRead says). Beyond ASan/UBSan it traps
// on any broken invariant: a planned read outside its task buffer, an event pointing outside what was read.
//
// Input layout: [config, split seed, task sizes (2 bytes), stream...]. See run.sh; seeds come from make-corpus.ts.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pdu_deframer.h"

using iscsi::DataPlacement;
using iscsi::Deframer;
using iscsi::DeframerRole;

static void Require(bool condition) {
  if (!condition) __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t config = data[0];
  uint32_t split = data[1] | 1u;
  const uint16_t task_sizes = static_cast<uint16_t>(data[2] | (data[3] << 8));
  const uint8_t* stream = data + 4;
  const size_t length = size - 4;

  Deframer deframer((config & 1) ? DeframerRole::kTarget : DeframerRole::kInitiator);
  deframer.SetDigests(config & 2, config & 4);
  deframer.SetMaxDataSegmentLength((config & 8) ? 8192 : 262144);
  deframer.SetPlacementThreshold((config & 16) ? 512 : 16384);

  // Four tasks, ITT 0..3, with buffer sizes 0..~96 KiB drawn from the input.
  std::vector<std::vector<uint8_t>> tasks(4);
  for (uint32_t itt = 0; itt < 4; itt++) {
    tasks[itt].resize(((task_sizes >> (itt * 4)) & 0xf) * 6000);
    deframer.RegisterTask(itt, tasks[itt].data(), tasks[itt].size());
  }
  std::vector<uint8_t> staging((config & 32) ? 64 : 4096);

  size_t at = 0;
  bool unregistered = false;
  while (at < length) {
    split = split * 1103515245u + 12345u;  // split points vary with the seed byte
    // Planned as the socket pump plans (no exact reads when idle) or as a caller that plans ahead does.
    const iscsi::ReadPlan plan = deframer.PlanRead(staging.size(), (config & 128) == 0);
    Require(plan.length > 0);
    // Like the socket pump, a payload read may run on into staging for the bytes up to the next BHS (plan.tail).
    const size_t tail = plan.into_task && (split & 1) && plan.tail <= staging.size() ? plan.tail : 0;
    size_t n = 1 + (split >> 16) % (plan.length + tail);
    if (n > length - at) n = length - at;
    bool ok;
    size_t staged = 0;  // bytes of this read that went to staging
    if (plan.into_task) {
      Require(plan.itt < 4);
      std::vector<uint8_t>& task = tasks[plan.itt];
      const size_t direct = std::min(n, plan.length);
      Require(plan.offset <= task.size() && direct <= task.size() - plan.offset && plan.dest == task.data() + plan.offset);
      memcpy(task.data() + plan.offset, stream + at, direct);
      ok = deframer.CommitTaskRead(direct);
      staged = n - direct;
      if (ok && staged > 0) {
        memcpy(staging.data(), stream + at + direct, staged);
        ok = deframer.Consume(staging.data(), staged);
      }
    } else {
      Require(plan.length <= staging.size());
      memcpy(staging.data(), stream + at, n);
      ok = deframer.Consume(staging.data(), n);
      staged = n;
    }
    at += n;

    const auto& arena = deframer.header_arena();
    const auto segments = deframer.TakeSegments();
    for (const iscsi::PduEvent& event : deframer.events()) {
      Require(event.header_length >= Deframer::kBhsLength);
      Require(event.header_offset + event.header_length <= arena.size());
      switch (static_cast<DataPlacement>(event.placement)) {
        case DataPlacement::kNone: break;
        case DataPlacement::kInput: Require(event.data_offset + event.data_length <= staged); break;
        case DataPlacement::kSegment:
          Require(event.data_offset < segments.size() && segments[event.data_offset].size() == event.data_length);
          break;
        case DataPlacement::kTask:
          Require(event.itt < 4 && event.data_offset + uint64_t{event.data_length} <= tasks[event.itt].size());
          break;
        default: Require(false);
      }
    }
    deframer.ClearEvents();
    if (!ok) {
      Require(deframer.error() != iscsi::DeframerError::kNone && !deframer.error_message().empty());
      Require(!deframer.Consume(staging.data(), 1));  // failed stays failed
      break;
    }
    if ((config & 64) && !unregistered && at > length / 2) {  // abort a task mid-stream
      deframer.UnregisterTask(0);
      unregistered = true;
    }
  }
  return 0;
}
