#include "pdu_deframer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "crc32c.h"

namespace iscsi {

const char* DeframerErrorCode(DeframerError error) {
  switch (error) {
    case DeframerError::kNone: return "OK";
    case DeframerError::kUnknownOpcode: return "EUNKNOWNOPCODE";
    case DeframerError::kDataSegmentTooLong: return "EDATASEGMENTLENGTH";
    case DeframerError::kAhsOverrun: return "EAHS";
    case DeframerError::kHeaderDigest: return "EHEADERDIGEST";
    case DeframerError::kDataDigest: return "EDATADIGEST";
    case DeframerError::kBufferOverrun: return "EBUFFEROFFSET";
  }
  return "EPROTO";
}

static uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
static uint32_t Le32(const uint8_t* p) {  // digests travel least-significant byte first
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
static std::string Hex(uint32_t value) {
  char text[16];
  snprintf(text, sizeof text, "0x%x", value);
  return text;
}

Deframer::Deframer(DeframerRole role) : role_(role) {}

void Deframer::SetDigests(bool header, bool data) {
  header_digest_ = header;
  data_digest_ = data;
}

void Deframer::RegisterTask(uint32_t itt, uint8_t* data, size_t length) {
  UnregisterTask(itt);
  tasks_[itt] = Task{data, length};
  registered_bytes_ += length;
  if (length >= placement_threshold_) large_tasks_++;
}

bool Deframer::UnregisterTask(uint32_t itt) {
  auto it = tasks_.find(itt);
  if (it == tasks_.end()) return false;
  if (it->second.length >= placement_threshold_) large_tasks_--;
  registered_bytes_ -= it->second.length;
  tasks_.erase(it);
  // The caller may reuse the buffer at once: never write another byte of an unfinished segment into it.
  if (state_ == State::kData && placement_ == DataPlacement::kTask && itt_ == itt) discard_ = true;
  return true;
}

bool Deframer::AcceptsOpcode(uint8_t opcode) const {
  if (role_ == DeframerRole::kInitiator) {
    switch (opcode) {
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: case 0x31: case 0x32: case 0x3f:
        return true;
      default:
        return false;
    }
  }
  return opcode <= 0x06 || opcode == 0x10;
}

ReadPlan Deframer::PlanRead(size_t staging_capacity, bool exact_when_idle) const {
  ReadPlan plan{false, 0, 0, staging_capacity, nullptr, 0};
  // While large task payload is arriving in large segments, staging reads stop at PDU boundaries so that the next
  // segment is read straight into its task buffer instead of being staged and copied. So do reads planned while
  // idle: the plan is fixed before the next command registers its buffer. Otherwise (small transfers, or a peer
  // that sends small Data-In segments) reads take many PDUs at once: two reads per PDU would cost more than
  // copying a few KiB each.
  const bool exact = (exact_when_idle && tasks_.empty()) || (large_tasks_ > 0 && large_segments_);
  size_t need = 0;
  switch (state_) {
    case State::kData:
      if (placement_ == DataPlacement::kTask && !discard_) {
        return ReadPlan{true, itt_, buffer_offset_ + data_have_, data_length_ - data_have_, task_dest_ + data_have_,
                        TrailerTotal() + kBhsLength + (header_digest_ ? 4 : 0)};
      }
      need = data_length_ - data_have_ + TrailerTotal();
      break;
    case State::kHeader:
      need = (bhs_parsed_ ? HeaderTotal() : kBhsLength + (header_digest_ ? 4 : 0)) - header_have_;
      break;
    case State::kTrailer:
      need = TrailerTotal() - trailer_have_;
      break;
    case State::kFailed:
      return plan;
  }
  if (exact) plan.length = std::min(need, staging_capacity);
  return plan;
}

bool Deframer::Fail(DeframerError error, std::string message) {
  state_ = State::kFailed;
  error_ = error;
  error_message_ = std::move(message);
  return false;
}

bool Deframer::CommitTaskRead(size_t n) {
  if (state_ == State::kFailed) return false;
  if (state_ != State::kData || placement_ != DataPlacement::kTask || discard_ || n > data_length_ - data_have_) {
    return Fail(DeframerError::kBufferOverrun, "task read committed where none was planned");
  }
  if (data_digest_) data_crc_ = Crc32c(data_crc_, task_dest_ + data_have_, n);
  data_have_ += static_cast<uint32_t>(n);
  stats_.payload_direct += n;
  stats_.bytes += n;
  return data_have_ < data_length_ || OnDataComplete();
}

bool Deframer::Consume(const uint8_t* input, size_t n, size_t input_base) {
  if (state_ == State::kFailed) return false;
  input_ = input;
  input_base_ = input_base;
  stats_.bytes += n;
  size_t i = 0;
  while (i < n) {
    switch (state_) {
      case State::kHeader: {
        const size_t target = bhs_parsed_ ? HeaderTotal() : kBhsLength;
        const size_t k = std::min(target - header_have_, n - i);
        memcpy(header_.data() + header_have_, input + i, k);
        header_have_ += k;
        i += k;
        if (header_have_ < target) break;
        if (!bhs_parsed_) {
          if (!OnBhsComplete()) return false;
          if (header_have_ < HeaderTotal()) break;
        }
        if (!OnHeaderComplete(i, n)) return false;
        break;
      }
      case State::kData: {
        const size_t k = std::min<size_t>(data_length_ - data_have_, n - i);
        if (placement_ == DataPlacement::kTask && !discard_) {
          memcpy(task_dest_ + data_have_, input + i, k);
          if (data_digest_) data_crc_ = Crc32c(data_crc_, task_dest_ + data_have_, k);
          stats_.payload_copied += k;
        } else if (placement_ == DataPlacement::kSegment) {
          gather_.insert(gather_.end(), input + i, input + i + k);
          stats_.segment_bytes_gathered += k;
        }  // kInput: the bytes stay where they are
        data_have_ += static_cast<uint32_t>(k);
        i += k;
        if (data_have_ == data_length_ && !OnDataComplete()) return false;
        break;
      }
      case State::kTrailer: {
        const size_t k = std::min(TrailerTotal() - trailer_have_, n - i);
        memcpy(trailer_.data() + trailer_have_, input + i, k);
        trailer_have_ += k;
        i += k;
        if (trailer_have_ == TrailerTotal() && !FinishPdu()) return false;
        break;
      }
      case State::kFailed:
        return false;
    }
  }
  input_ = nullptr;
  return true;
}

bool Deframer::OnBhsComplete() {
  bhs_parsed_ = true;
  opcode_ = header_[0] & 0x3f;
  if (!AcceptsOpcode(opcode_)) {
    return Fail(DeframerError::kUnknownOpcode,
                "opcode " + Hex(opcode_) + " is not one a" +
                    (role_ == DeframerRole::kInitiator ? " target" : "n initiator") + " sends");
  }
  ahs_length_ = size_t{header_[4]} * 4;
  data_length_ = (uint32_t{header_[5]} << 16) | (uint32_t{header_[6]} << 8) | header_[7];
  if (data_length_ > max_data_segment_) {
    return Fail(DeframerError::kDataSegmentTooLong, "DataSegmentLength " + std::to_string(data_length_) +
                                                        " exceeds MaxRecvDataSegmentLength " +
                                                        std::to_string(max_data_segment_));
  }
  itt_ = Be32(header_.data() + 16);
  return true;
}

bool Deframer::OnHeaderComplete(size_t input_offset, size_t input_size) {
  const size_t covered = kBhsLength + ahs_length_;
  if (header_digest_) {
    const uint32_t expected = Le32(header_.data() + covered);
    const uint32_t actual = Crc32c(0, header_.data(), covered);
    if (expected != actual) {
      return Fail(DeframerError::kHeaderDigest,
                  "header digest mismatch: received " + Hex(expected) + ", computed " + Hex(actual));
    }
  }
  // Each AHS: AHSLength (2 bytes, excluding type and padding), AHSType, AHS-specific bytes, padded to 4.
  for (size_t at = 0; at < ahs_length_;) {
    const size_t left = ahs_length_ - at;
    const size_t declared = (size_t{header_[kBhsLength + at]} << 8) | header_[kBhsLength + at + 1];
    const size_t entry = (3 + declared + 3) & ~size_t{3};
    if (left < 4 || entry > left) {
      return Fail(DeframerError::kAhsOverrun, "an AHS of " + std::to_string(declared) +
                                                  " bytes overruns TotalAHSLength " + std::to_string(ahs_length_));
    }
    at += entry;
  }
  pad_ = (4 - data_length_ % 4) % 4;
  if (data_length_ == 0) return FinishPdu();  // no data segment: neither padding nor data digest
  BeginData(input_offset, input_size);
  return state_ != State::kFailed;
}

void Deframer::BeginData(size_t input_offset, size_t input_size) {
  state_ = State::kData;
  data_have_ = 0;
  data_crc_ = 0;
  trailer_have_ = 0;
  discard_ = false;
  const bool task_payload = (role_ == DeframerRole::kInitiator && opcode_ == 0x25) ||
                            (role_ == DeframerRole::kTarget && opcode_ == 0x05);
  if (task_payload) {
    auto it = tasks_.find(itt_);
    if (it != tasks_.end()) {
      buffer_offset_ = Be32(header_.data() + 40);
      const Task& task = it->second;
      if (buffer_offset_ > task.length || data_length_ > task.length - buffer_offset_) {
        Fail(DeframerError::kBufferOverrun, "data at Buffer Offset " + std::to_string(buffer_offset_) + " + " +
                                                std::to_string(data_length_) + " bytes overruns the " +
                                                std::to_string(task.length) + "-byte buffer of task " + Hex(itt_));
        return;
      }
      placement_ = DataPlacement::kTask;
      task_dest_ = task.data + buffer_offset_;
      large_segments_ = data_length_ >= placement_threshold_;
      return;
    }
  }
  if (input_ != nullptr && input_size - input_offset >= data_length_ + TrailerTotal()) {
    placement_ = DataPlacement::kInput;  // the whole segment and its trailer are here: hand out a view
    input_data_offset_ = input_offset;
  } else {
    placement_ = DataPlacement::kSegment;  // bounded: data_length_ <= max_data_segment_
    gather_.clear();
    gather_.reserve(data_length_);
  }
}

bool Deframer::OnDataComplete() {
  if (TrailerTotal() == 0) return FinishPdu();
  state_ = State::kTrailer;
  return true;
}

bool Deframer::FinishPdu() {
  if (data_digest_ && data_length_ > 0 && !discard_) {
    uint32_t crc = data_crc_;
    if (placement_ == DataPlacement::kInput) crc = Crc32c(0, input_ + input_data_offset_, data_length_);
    if (placement_ == DataPlacement::kSegment) crc = Crc32c(0, gather_.data(), gather_.size());
    crc = Crc32c(crc, trailer_.data(), pad_);  // padding is covered by the data digest
    const uint32_t expected = Le32(trailer_.data() + pad_);
    if (crc != expected) {
      return Fail(DeframerError::kDataDigest, "data digest mismatch on " + std::to_string(data_length_) +
                                                  " bytes: received " + Hex(expected) + ", computed " + Hex(crc));
    }
  }
  PduEvent event{};
  event.opcode = opcode_;
  event.itt = itt_;
  event.header_offset = static_cast<uint32_t>(header_arena_.size());
  event.header_length = static_cast<uint32_t>(kBhsLength + ahs_length_);
  header_arena_.insert(header_arena_.end(), header_.data(), header_.data() + event.header_length);
  event.data_length = data_length_;
  if (data_length_ == 0 || discard_) {
    event.placement = static_cast<uint32_t>(DataPlacement::kNone);
  } else {
    event.placement = static_cast<uint32_t>(placement_);
    if (placement_ == DataPlacement::kInput) event.data_offset = static_cast<uint32_t>(input_base_ + input_data_offset_);
    if (placement_ == DataPlacement::kTask) event.data_offset = buffer_offset_;
    if (placement_ == DataPlacement::kSegment) {
      event.data_offset = static_cast<uint32_t>(segments_.size());
      segments_.push_back(std::move(gather_));
      gather_ = std::vector<uint8_t>();
    }
  }
  // An initiator's command ends with its status (a Data-In with S, or the SCSI Response): nothing more is placed for
  // it, so its task goes now; the caller learns it from the event instead of making a call per I/O to say it.
  const bool ends_command = opcode_ == 0x21 || (opcode_ == 0x25 && (header_[1] & 0x01) != 0);
  if (role_ == DeframerRole::kInitiator && ends_command && UnregisterTask(itt_)) event.task_ended = 1;
  events_.push_back(event);
  stats_.pdus++;

  state_ = State::kHeader;
  header_have_ = 0;
  bhs_parsed_ = false;
  ahs_length_ = 0;
  data_length_ = 0;
  placement_ = DataPlacement::kNone;
  trailer_have_ = 0;
  discard_ = false;
  return true;
}

void Deframer::ClearEvents() {
  events_.clear();
  header_arena_.clear();
  segments_.clear();  // also resets a moved-from vector to a known empty state
}

}  // namespace iscsi
