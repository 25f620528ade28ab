// JS face of the deframer. One call per socket read: commitStaging()/commitTask() parse what arrived and copy the
// completed PDUs' headers and event records into JS-owned arrays given at construction; payload is never copied here.
// The socket pump (socket_pump.cc) drives the same object from its own reads.
#pragma once
#include <cstring>
#include <vector>

#include "addon.h"
#include "pdu_deframer.h"

namespace iscsi {

class DeframerBinding : public Napi::ObjectWrap<DeframerBinding> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Deframer", DefineClass(env, "Deframer",
                                        {
                                            InstanceMethod("setDigests", &DeframerBinding::SetDigests),
                                            InstanceMethod("setMaxDataSegmentLength", &DeframerBinding::SetMaxDataSegmentLength),
                                            InstanceMethod("registerTask", &DeframerBinding::RegisterTask),
                                            InstanceMethod("unregisterTask", &DeframerBinding::UnregisterTask),
                                            InstanceMethod("planRead", &DeframerBinding::PlanRead),
                                            InstanceMethod("setBuffers", &DeframerBinding::SetBuffers),
                                            InstanceMethod("commitStaging", &DeframerBinding::CommitStaging),
                                            InstanceMethod("commitTask", &DeframerBinding::CommitTask),
                                            InstanceMethod("feed", &DeframerBinding::Feed),
                                            InstanceMethod("takeSegment", &DeframerBinding::TakeSegment),
                                            InstanceMethod("error", &DeframerBinding::Error),
                                            InstanceMethod("stats", &DeframerBinding::Stats),
                                        }));
  }

  // new Deframer(role: 'initiator' | 'target', staging: Buffer, events: Uint32Array, headers: Buffer, plan: Uint32Array)
  // plan: [intoTask, itt, offset, length] from planRead(), and in word 4 the pump's note that staging was too small.
  explicit DeframerBinding(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<DeframerBinding>(info),
        deframer_(info[0].As<Napi::String>().Utf8Value() == "target" ? DeframerRole::kTarget : DeframerRole::kInitiator) {
    Hold3(info[1], info[2], info[3]);
    Span plan = Hold(info[4], &plan_ref_);
    if (plan.length < kPlanWords * sizeof(uint32_t)) throw Napi::RangeError::New(info.Env(), "the plan array needs 5 words");
    plan_ = reinterpret_cast<uint32_t*>(plan.data);
  }

  // For the socket pump (socket_pump.cc), which reads on the JS thread into this deframer's buffers.
  Deframer& deframer() { return deframer_; }
  uint8_t* staging() const { return staging_.data; }
  size_t staging_length() const { return staging_.length; }
  // The socket pump's note that the staging buffer limited a batch (it filled, or a read took all the room left):
  // JS then swaps in larger buffers (setBuffers) between batches, so an idle connection keeps small ones.
  void NoteStagingFull() { plan_[4] = 1; }
  // Copies the batch's events and headers to the JS arrays. `*result` is the event count, or -1 - count on a
  // protocol error. False when the arrays are too small for the batch (the batch is dropped).
  bool PublishBatch(bool ok, int32_t* result);

 private:
  struct Span {
    uint8_t* data = nullptr;
    size_t length = 0;
  };

  static Span View(const Napi::Value& value) {
    if (!value.IsTypedArray()) throw Napi::TypeError::New(value.Env(), "expected a Buffer or typed array");
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    uint8_t* base = static_cast<uint8_t*>(array.ArrayBuffer().Data());
    return Span{base + array.ByteOffset(), array.ByteLength()};
  }
  static Span Hold(const Napi::Value& value, Napi::ObjectReference* ref) {
    Span span = View(value);
    *ref = Napi::Persistent(value.As<Napi::Object>());
    return span;
  }
  void Hold3(const Napi::Value& staging, const Napi::Value& events, const Napi::Value& headers) {
    staging_ = Hold(staging, &staging_ref_);
    events_ = Hold(events, &events_ref_);
    headers_ = Hold(headers, &headers_ref_);
  }

  // setBuffers(staging, events, headers): only between batches (from the JS that handles one, or outside any read):
  // no event of a batch still to be published points into the old staging. The socket pump reads the staging
  // pointer afresh for every read and keeps the old, smaller length for the rest of a batch it is in.
  void SetBuffers(const Napi::CallbackInfo& info) { Hold3(info[0], info[1], info[2]); }

  void SetDigests(const Napi::CallbackInfo& info) {
    deframer_.SetDigests(info[0].ToBoolean(), info[1].ToBoolean());
  }
  void SetMaxDataSegmentLength(const Napi::CallbackInfo& info) {
    deframer_.SetMaxDataSegmentLength(info[0].As<Napi::Number>().Uint32Value());
  }

  // The JS wrapper (lib/wire/deframer.ts) keeps every registered buffer in its own map until it unregisters it,
  // so the memory stays alive without a Node-API reference per task (one per I/O would cost more than the rest).
  void RegisterTask(const Napi::CallbackInfo& info) {
    const uint32_t itt = info[0].As<Napi::Number>().Uint32Value();
    Span span = View(info[1]);
    deframer_.RegisterTask(itt, span.data, span.length);
  }
  Napi::Value UnregisterTask(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), deframer_.UnregisterTask(info[0].As<Napi::Number>().Uint32Value()));
  }

  // Fills plan = [intoTask ? 1 : 0, itt, offset, length] for a staging buffer of the given capacity.
  void PlanRead(const Napi::CallbackInfo& info) {
    const size_t capacity = info.Length() > 0 ? info[0].As<Napi::Number>().Uint32Value() : staging_.length;
    ReadPlan plan = deframer_.PlanRead(std::min(capacity, staging_.length));
    plan_[0] = plan.into_task ? 1 : 0;
    plan_[1] = plan.itt;
    plan_[2] = static_cast<uint32_t>(plan.offset);
    plan_[3] = static_cast<uint32_t>(plan.length);
  }

  Napi::Value CommitStaging(const Napi::CallbackInfo& info) {
    const size_t n = info[0].As<Napi::Number>().Uint32Value();
    if (n > staging_.length) throw Napi::RangeError::New(info.Env(), "more bytes than the staging buffer holds");
    return Publish(info.Env(), deframer_.Consume(staging_.data, n));
  }
  Napi::Value CommitTask(const Napi::CallbackInfo& info) {
    return Publish(info.Env(), deframer_.CommitTaskRead(info[0].As<Napi::Number>().Uint32Value()));
  }
  // Parses bytes that are already in memory (the 'data' event path, tests, benchmarks). kInput offsets are into `buf`.
  Napi::Value Feed(const Napi::CallbackInfo& info) {
    Span input = View(info[0]);
    return Publish(info.Env(), deframer_.Consume(input.data, input.length));
  }

  Napi::Value Publish(Napi::Env env, bool ok) {
    int32_t result = 0;
    if (!PublishBatch(ok, &result)) {
      throw Napi::RangeError::New(env, "deframer event arrays too small for one read; feed smaller chunks");
    }
    return Napi::Number::New(env, result);
  }

  Napi::Value TakeSegment(const Napi::CallbackInfo& info) {
    const uint32_t index = info[0].As<Napi::Number>().Uint32Value();
    if (index >= segments_.size()) throw Napi::RangeError::New(info.Env(), "no such gathered segment");
    const auto& segment = segments_[index];
    return Napi::Buffer<uint8_t>::Copy(info.Env(), segment.data(), segment.size());
  }

  Napi::Value Error(const Napi::CallbackInfo& info) {
    if (deframer_.error() == DeframerError::kNone) return info.Env().Null();
    Napi::Object error = Napi::Object::New(info.Env());
    error.Set("code", DeframerErrorCode(deframer_.error()));
    error.Set("message", deframer_.error_message());
    if (const uint8_t* bhs = deframer_.failed_bhs()) {
      error.Set("bhs", Napi::Buffer<uint8_t>::Copy(info.Env(), bhs, Deframer::kBhsLength));
    }
    return error;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    const DeframerStats& s = deframer_.stats();
    Napi::Object stats = Napi::Object::New(info.Env());
    stats.Set("pdus", static_cast<double>(s.pdus));
    stats.Set("bytes", static_cast<double>(s.bytes));
    stats.Set("payloadDirect", static_cast<double>(s.payload_direct));
    stats.Set("payloadCopied", static_cast<double>(s.payload_copied));
    stats.Set("segmentBytesGathered", static_cast<double>(s.segment_bytes_gathered));
    return stats;
  }

  static constexpr size_t kPlanWords = 5;
  Deframer deframer_;
  Span staging_, events_, headers_;
  uint32_t* plan_ = nullptr;
  Napi::ObjectReference staging_ref_, events_ref_, headers_ref_, plan_ref_;
  std::vector<std::vector<uint8_t>> segments_;
};

inline bool DeframerBinding::PublishBatch(bool ok, int32_t* result) {
  const auto& events = deframer_.events();
  const auto& arena = deframer_.header_arena();
  const size_t event_bytes = events.size() * sizeof(PduEvent);
  if (event_bytes > events_.length || arena.size() > headers_.length) {
    deframer_.ClearEvents();
    return false;
  }
  if (!events.empty()) memcpy(events_.data, events.data(), event_bytes);
  if (!arena.empty()) memcpy(headers_.data, arena.data(), arena.size());
  segments_ = deframer_.TakeSegments();
  const int32_t count = static_cast<int32_t>(events.size());
  deframer_.ClearEvents();
  *result = ok ? count : -1 - count;  // on error, -1 - (events completed before it)
  return true;
}

}  // namespace iscsi
