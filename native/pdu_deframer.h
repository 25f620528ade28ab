// Splits an iSCSI byte stream into PDUs (RFC 7143 §11.1-§11.2): BHS, AHS, header digest, data segment, padding,
// data digest. This is the code that faces the network: every length comes from the peer and is checked before use,
// memory is bounded by the negotiated MaxRecvDataSegmentLength, and any violation ends the stream with a typed error.
//
// Zero copy. The caller reads from the socket wherever PlanRead() says: usually into its staging buffer, but when
// the data segment of a Data-In (initiator) or Data-Out (target) for a registered task is due, straight into that
// task's buffer at the PDU's Buffer Offset. Staged payload for a registered task is copied once into the task
// buffer and counted in stats().payload_copied, so tests can prove that large segments never take that path.
//
// Pure C++ without Node-API: the libFuzzer harness (native/fuzz/) links it alone.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace iscsi {

enum class DeframerRole : uint8_t { kInitiator, kTarget };  // which side we are: decides the opcodes accepted

enum class DeframerError : uint8_t {
  kNone = 0,
  kUnknownOpcode,        // an opcode the peer's role never sends
  kDataSegmentTooLong,   // DataSegmentLength above what we declared (MaxRecvDataSegmentLength)
  kAhsOverrun,           // an AHS whose length runs past TotalAHSLength, or a malformed AHS chain
  kHeaderDigest,         // header digest mismatch
  kDataDigest,           // data digest mismatch
  kBufferOverrun,        // Buffer Offset + length beyond the registered task buffer
};
const char* DeframerErrorCode(DeframerError error);  // "EUNKNOWNOPCODE", ... for JS error codes

// Where the data segment of a PDU ended up.
enum class DataPlacement : uint32_t {
  kNone = 0,       // no data segment
  kInput = 1,      // inside the input of the Consume() call that completed the PDU, at data_offset
  kSegment = 2,    // spanned several reads: gathered in the deframer's segment buffer (TakeSegment())
  kTask = 3,       // written into the registered task buffer at data_offset (the Buffer Offset)
};

// One completed PDU. Kept as 8 x uint32 so the binding can hand a batch to JS as one Uint32Array.
struct PduEvent {
  uint32_t opcode;
  uint32_t itt;
  uint32_t header_offset;  // into header_arena(): BHS followed by AHS (no digest)
  uint32_t header_length;  // 48 + TotalAHSLength
  uint32_t placement;      // DataPlacement
  uint32_t data_offset;
  uint32_t data_length;
  uint32_t task_ended;     // 1: this PDU carried the command's status and its task was unregistered (initiator)
};
static_assert(sizeof(PduEvent) == 32, "PduEvent is shared with JS as 8 x uint32");

struct DeframerStats {
  uint64_t pdus = 0;
  uint64_t bytes = 0;                 // every byte consumed, headers included
  uint64_t payload_direct = 0;        // task payload read straight into task buffers
  uint64_t payload_copied = 0;        // task payload staged first, then copied into task buffers
  uint64_t segment_bytes_gathered = 0;  // unregistered data that spanned reads and was gathered
};

// Where the next socket read should land.
struct ReadPlan {
  bool into_task;    // true: into the buffer of task `itt` at `offset`; false: into the staging buffer
  uint32_t itt;
  size_t offset;     // task buffer offset (into_task only)
  size_t length;     // at most this many bytes
  uint8_t* dest;     // into_task: where the read goes (the task buffer at `offset`); else null
  // into_task: how many bytes after the payload may be read into staging in the same syscall (the segment's
  // padding and digest, and the next BHS) without pulling another segment's payload through staging.
  size_t tail;
};

class Deframer {
 public:
  static constexpr size_t kBhsLength = 48;
  static constexpr size_t kMaxAhsLength = 255 * 4;
  static constexpr uint32_t kDefaultPlacementThreshold = 16 * 1024;

  explicit Deframer(DeframerRole role);

  void SetDigests(bool header, bool data);
  void SetMaxDataSegmentLength(uint32_t max) { max_data_segment_ = max; }  // what we declared to the peer
  void SetPlacementThreshold(uint32_t bytes) { placement_threshold_ = bytes; }

  // Data-In (initiator) / Data-Out (target) payload for `itt` goes to [data, data+length) at its Buffer Offset.
  // The memory must stay valid until UnregisterTask, or (initiator) until the PDU with the command's status, which
  // unregisters the task itself and says so in its event (task_ended).
  void RegisterTask(uint32_t itt, uint8_t* data, size_t length);
  bool UnregisterTask(uint32_t itt);
  // Bytes of the registered task buffers: the payload the peer is expected to send for the tasks outstanding.
  size_t registered_bytes() const { return registered_bytes_; }

  // The next read: into a task buffer when its payload is due, else into staging (bounded by `staging_capacity`).
  // `exact_when_idle`: with no task registered, stop at the next PDU boundary (for a caller that plans a read before
  // a command registers its buffer). A caller that plans each read right before it reads, like the socket pump,
  // passes false: with nothing registered nothing can be placed, and exact reads would cost a syscall per 48-byte
  // PDU (a write load registers nothing on the initiator: every R2T and SCSI Response was a read of its own).
  ReadPlan PlanRead(size_t staging_capacity, bool exact_when_idle = true) const;
  // `n` bytes arrived where PlanRead said (into_task). Returns false on a protocol error.
  bool CommitTaskRead(size_t n);
  // Parses `n` bytes at `input` (staging, or any stream for tests and the fuzzer). Returns false on a protocol error;
  // then error() says why and every later call fails. kInput data offsets are reported as `input_base` + the offset
  // in `input`: a caller that fills one buffer with several reads before handing the events on gives the read's place.
  bool Consume(const uint8_t* input, size_t n, size_t input_base = 0);

  // Results of the calls since the last ClearEvents(): PDUs in arrival order, their headers, gathered segments.
  const std::vector<PduEvent>& events() const { return events_; }
  const std::vector<uint8_t>& header_arena() const { return header_arena_; }
  // Gathered segments of this batch (events with kSegment index into it); leaves the deframer's list empty.
  std::vector<std::vector<uint8_t>> TakeSegments() { return std::move(segments_); }
  void ClearEvents();

  DeframerError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }
  // The BHS of the PDU that broke the rules, when its 48 bytes had arrived (a target quotes it in a Reject).
  const uint8_t* failed_bhs() const { return error_ != DeframerError::kNone && bhs_parsed_ ? header_.data() : nullptr; }
  const DeframerStats& stats() const { return stats_; }

 private:
  enum class State : uint8_t { kHeader, kData, kTrailer, kFailed };
  struct Task {
    uint8_t* data;
    size_t length;
  };

  bool Fail(DeframerError error, std::string message);
  bool OnBhsComplete();
  bool OnHeaderComplete(size_t input_offset, size_t input_size);
  void BeginData(size_t input_offset, size_t input_size);
  bool OnDataComplete();
  bool FinishPdu();
  bool AcceptsOpcode(uint8_t opcode) const;
  size_t HeaderTotal() const { return kBhsLength + ahs_length_ + (header_digest_ ? 4 : 0); }
  size_t TrailerTotal() const { return pad_ + (data_digest_ ? 4 : 0); }

  DeframerRole role_;
  bool header_digest_ = false;
  bool data_digest_ = false;
  uint32_t max_data_segment_ = 8192;  // RFC 7143 default before negotiation
  uint32_t placement_threshold_ = kDefaultPlacementThreshold;
  std::unordered_map<uint32_t, Task> tasks_;
  size_t registered_bytes_ = 0;
  size_t large_tasks_ = 0;  // registered tasks whose buffer is at least placement_threshold_
  bool large_segments_ = true;  // the peer's last task payload segment was at least placement_threshold_

  State state_ = State::kHeader;
  std::array<uint8_t, kBhsLength + kMaxAhsLength + 4> header_{};
  size_t header_have_ = 0;
  size_t ahs_length_ = 0;
  bool bhs_parsed_ = false;

  // Current data segment.
  uint8_t opcode_ = 0;
  uint32_t itt_ = 0;
  uint32_t data_length_ = 0;
  uint32_t data_have_ = 0;
  uint32_t pad_ = 0;
  DataPlacement placement_ = DataPlacement::kNone;
  uint8_t* task_dest_ = nullptr;   // kTask: where byte 0 of this segment goes
  uint32_t buffer_offset_ = 0;
  size_t input_data_offset_ = 0;   // kInput: offset in the current Consume() input
  const uint8_t* input_ = nullptr; // the current Consume() input, valid during that call only
  size_t input_base_ = 0;          // added to kInput offsets (Consume's input_base)
  bool discard_ = false;           // the task was unregistered mid-segment: drop the rest of its payload
  std::vector<uint8_t> gather_;    // kSegment: bytes so far
  uint32_t data_crc_ = 0;
  std::array<uint8_t, 8> trailer_{};
  size_t trailer_have_ = 0;

  std::vector<PduEvent> events_;
  std::vector<uint8_t> header_arena_;
  std::vector<std::vector<uint8_t>> segments_;

  DeframerError error_ = DeframerError::kNone;
  std::string error_message_;
  DeframerStats stats_;
};

}  // namespace iscsi
