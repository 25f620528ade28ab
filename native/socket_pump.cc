// A PDU connection's socket I/O, initiator or target, on the JS thread without Node's stream machinery (native.md
// §2.1 option A). A uv_poll watches the connected fd. Each readable event reads in a loop wherever the deframer
// plans (staging, or straight into a task buffer) and hands everything completed to JS in one call. Writes are one
// sendmsg per JS flush; a remainder the kernel did not take is queued, its buffers pinned, until it is writable.
// Why: Node's stream layer costs several microseconds of JS per read and per write, more than a 4 KiB I/O itself.
// Wakeups are coalesced like a NIC's interrupts (SO_RCVLOWAT, bounded by a timer): on loopback at queue depth 32
// waking for every response or two cost more CPU than everything else per I/O.
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "addon.h"
#include "data_out_framer.h"
#include "deframer_binding.h"
#include "tcp_in_flight.h"

namespace iscsi {
namespace {

// Enough to drain a busy socket in one event, few enough that one connection cannot starve the others.
constexpr int kMaxReadsPerEvent = 64;
// Below this much room left in staging, a batch goes to JS first rather than reading in small pieces.
constexpr size_t kMinStagingRead = 16 * 1024;
// Wakeup coalescing: with many reads outstanding the socket reports readable only once half of their payload
// (at most kMaxLowWater) has arrived, and kMaxCoalesceDelayMs bounds how long a smaller remainder may wait.
constexpr size_t kCoalesceDivisor = 2;
constexpr size_t kMaxLowWater = 512 * 1024;
// libuv's loop clock counts whole milliseconds, so a 1 ms timer may fire at once; 2 ms means 1 to 2 ms.
constexpr uint64_t kMaxCoalesceDelayMs = 2;
constexpr uint32_t kOpcodeScsiResponse = 0x21;

class SocketPump : public Napi::ObjectWrap<SocketPump> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("SocketPump", DefineClass(env, "SocketPump",
                                          {
                                              InstanceMethod("writev", &SocketPump::Writev),
                                              InstanceMethod("end", &SocketPump::End),
                                              InstanceMethod("destroy", &SocketPump::Destroy),
                                              InstanceMethod("setReading", &SocketPump::SetReading),
                                          }));
  }

  // new SocketPump(fd, deframer, onRead(result), onDrain(), onClose(code | null, message | null), coalesce)
  // `coalesce`: wakeups wait for half the registered task payload. Right for an initiator, whose registered reads
  // are all coming; not for a target, which registers a write's whole buffer before its R2Ts ask for the data.
  // `fd` is a connected non-blocking TCP socket that Node opened: the pump works on its own duplicate (closed on
  // destroy or close), so Node may close its handle at once.
  explicit SocketPump(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SocketPump>(info), context_(info.Env(), "iscsi-mpio:socket") {
    Napi::Env env = info.Env();
    fd_ = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) ThrowSystemError(env, "EBADF", errno, std::string("cannot take over the socket: ") + strerror(errno));
    deframer_ref_ = Napi::Persistent(info[1].As<Napi::Object>());
    deframer_ = Napi::ObjectWrap<DeframerBinding>::Unwrap(info[1].As<Napi::Object>());
    on_read_ = Napi::Persistent(info[2].As<Napi::Function>());
    on_drain_ = Napi::Persistent(info[3].As<Napi::Function>());
    on_close_ = Napi::Persistent(info[4].As<Napi::Function>());
    coalesce_ = info[5].ToBoolean();
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (int err = uv_poll_init_socket(loop, poll_, fd_); err != 0) {
      delete poll_;
      poll_ = nullptr;
      close(fd_);
      ThrowSystemError(env, uv_err_name(err), -err, std::string("cannot watch the socket: ") + uv_strerror(err));
    }
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
    uv_unref(reinterpret_cast<uv_handle_t*>(timer_));  // the poll handle is what keeps the loop alive
    timer_->data = this;
    Ref();  // alive while the fd is watched, whatever JS holds
    Watch();
  }

  // Only reached after Shut() (the pump holds a reference to itself until then), or at environment teardown.
  ~SocketPump() override {
    if (!closed_ && poll_) {
      closed_ = true;
      uv_poll_stop(poll_);
      ReleaseHandle();
    }
  }

 private:
  // ---- reading ----

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<SocketPump*>(handle->data);
    if (status < 0) {
      // libuv reports any socket error (EPOLLERR) as EBADF. A read delivers the bytes that came before the error
      // and then names it (ECONNRESET, say); SO_ERROR is the fallback.
      self->ReadAvailable();
      if (self->closed_) return;
      int err = 0;
      socklen_t length = sizeof err;
      if (getsockopt(self->fd_, SOL_SOCKET, SO_ERROR, &err, &length) == 0 && err != 0) {
        self->Close(uv_err_name(uv_translate_sys_error(err)), std::string("socket failed: ") + strerror(err));
      } else {
        self->Close(uv_err_name(status), std::string("socket poll failed: ") + uv_strerror(status));
      }
      return;
    }
    if (events & UV_WRITABLE) self->FlushPending();
    if (!self->closed_ && (events & UV_READABLE)) {
      self->stalled_ = false;
      self->ReadAvailable();
    }
  }

  // Reads until the socket is drained (or kMaxReadsPerEvent), then hands every PDU completed to JS in one call: the
  // reads are planned right here, after JS registered every buffer the data could be for (PlanRead's exact_when_idle).
  // The staging reads of one batch fill the staging buffer one after another, so the payload views of earlier PDUs in
  // the batch stay valid. One JS call per wakeup rather than per read: at 64 KiB a read completes one PDU at most.
  void ReadAvailable() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Deframer& deframer = deframer_->deframer();
    const size_t staging_length = deframer_->staging_length();
    size_t used = 0;  // staging bytes this batch's events may point into
    bool ok = true;
    read_bytes_ = 0;
    for (int i = 0; i < kMaxReadsPerEvent && !closed_; i++) {
      ReadPlan plan = deframer.PlanRead(staging_length - used, false);
      if (!plan.into_task && staging_length - used < kMinStagingRead) {
        deframer_->NoteStagingFull();
        if (!Deliver(true)) return;
        used = 0;
        plan = deframer.PlanRead(staging_length, false);
      }
      uint8_t* staging = deframer_->staging() + used;
      // A payload read also takes what follows it up to the next BHS: one syscall per large Data-In, not two.
      const size_t tail = plan.into_task && staging_length - used >= plan.tail ? plan.tail : 0;
      iovec iov[2] = {{plan.into_task ? plan.dest : staging, plan.length}, {staging, tail}};
      const ssize_t n = readv(fd_, iov, tail > 0 ? 2 : 1);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        const int err = errno;
        if (Deliver(true)) Close(uv_err_name(uv_translate_sys_error(err)), std::string("read failed: ") + strerror(err));
        return;
      }
      if (n == 0) {
        if (Deliver(true)) Close(nullptr, "");
        return;
      }
      const size_t got = static_cast<size_t>(n);
      read_bytes_ += got;
      if (plan.into_task) {
        ok = deframer.CommitTaskRead(std::min(got, plan.length));
        if (ok && got > plan.length) {
          ok = deframer.Consume(staging, got - plan.length, used);
          used += got - plan.length;
        }
      } else {
        // A read that took all the room staging had left: more was waiting, and a bigger staging takes it at once.
        if (got == staging_length - used) deframer_->NoteStagingFull();
        ok = deframer.Consume(staging, got, used);
        used += got;
      }
      if (!ok || got < plan.length + tail) break;  // drained for now: level-triggered polling says when more comes
    }
    if (!Deliver(ok)) return;
    if (!ok) {
      Shut();  // JS was told of the protocol error with the batch that met it
      return;
    }
    Coalesce();
  }

  // Sets the socket's low-water mark from the payload still expected, before the loop sleeps again.
  void Coalesce() {
    if (!coalesce_) return;
    // Payload of the reads outstanding, and a status PDU per command: a write's only answers are 48-byte R2Ts and
    // SCSI Responses, so counting payload alone woke once per response on a write load.
    const size_t expected = stalled_ ? 0 : deframer_->deframer().registered_bytes() + awaiting_status_ * Deframer::kBhsLength;
    size_t mark = std::min(expected / kCoalesceDivisor, kMaxLowWater);
    // Powers of two: a setsockopt only when the load changes, not whenever one task ends.
    mark = mark < 2 ? 1 : size_t{1} << (63 - __builtin_clzll(mark));
    if (static_cast<int>(mark) != low_water_) {
      low_water_ = static_cast<int>(mark);
      setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &low_water_, sizeof low_water_);
    }
    // Responses below the mark (the target holds the other commands, a timeout aborted some) wait at most this long.
    if (low_water_ > 1) uv_timer_start(timer_, OnCoalesceTimeout, kMaxCoalesceDelayMs, 0);
    else uv_timer_stop(timer_);
  }

  // Less than the mark came within the delay: take what is there. When nothing at all came, wake for every byte
  // until data flows again (a target working on long commands must not cost a timer wakeup every 2 ms).
  static void OnCoalesceTimeout(uv_timer_t* timer) {
    auto* self = static_cast<SocketPump*>(timer->data);
    if (self->closed_ || !self->reading_) return;
    self->ReadAvailable();
    if (self->closed_ || self->read_bytes_ > 0) return;
    self->stalled_ = true;
    self->Coalesce();
  }

  // Hands the batch to JS. False when the pump closed meanwhile (JS destroyed it, or the batch did not fit).
  bool Deliver(bool ok) {
    for (const PduEvent& event : deframer_->deframer().events()) {
      if ((event.opcode == kOpcodeScsiResponse || event.task_ended != 0) && awaiting_status_ > 0) awaiting_status_--;
    }
    int32_t result = 0;
    if (!deframer_->PublishBatch(ok, &result)) {
      Close("EPROTO", "one batch completed more PDUs than the event arrays hold");
      return false;
    }
    if (result != 0) Call(on_read_, {Napi::Number::New(Env(), result)});
    return !closed_;
  }

  // ---- writing ----

  // writev(buffers: Uint8Array[], bursts?: Uint32Array, burstCount?: number, awaitingStatus?: number): true when everything went out now;
  // false when the rest waits for writability. Each burst (kBurstWords words, in buffer order) says that
  // buffers[index] is not sent as it is but as the Data-Out PDUs of one sequence framed from it here
  // (data_out_framer.h): the headers of a whole tick's Data-Out cost no JS and no allocation per PDU.
  Napi::Value Writev(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || write_failed_) return Napi::Boolean::New(env, false);
    Napi::Array list = info[0].As<Napi::Array>();
    const uint32_t count = list.Length();
    const uint32_t* bursts = nullptr;
    uint32_t burst_count = 0;
    if (info.Length() > 2 && info[1].IsTypedArray()) {
      Napi::Uint32Array words = info[1].As<Napi::Uint32Array>();
      burst_count = info[2].As<Napi::Number>().Uint32Value();
      if (static_cast<size_t>(burst_count) * kBurstWords > words.ElementLength()) {
        throw Napi::RangeError::New(env, "burst count beyond the descriptor array");
      }
      bursts = words.Data();
    }
    // The commands JS has outstanding, for the wakeup coalescing (Coalesce); decremented as their status arrives.
    if (info.Length() > 3 && info[3].IsNumber()) awaiting_status_ = info[3].As<Napi::Number>().Uint32Value();
    // Sized once before framing: the chunks point into it.
    size_t arena_bytes = 0;
    for (uint32_t b = 0; b < burst_count; b++) {
      const uint32_t* words = bursts + b * kBurstWords;
      const DataOutBurst burst = Burst(words);
      if (words[0] >= count || (b > 0 && words[0] <= bursts[(b - 1) * kBurstWords]) ||
          !DataOutBurstFits(burst, list.Get(words[0]).As<Napi::TypedArray>().ByteLength())) {
        throw Napi::RangeError::New(env, "a Data-Out burst outside its buffer, out of order, or with no usable segment size");
      }
      arena_bytes += DataOutPduCount(burst) * kDataOutArenaPerPdu;
    }
    std::vector<uint8_t> arena(std::move(spare_arena_));
    arena.resize(arena_bytes);
    std::vector<WireChunk>& chunks = chunks_;
    chunks.clear();
    uint32_t next_burst = 0;
    size_t arena_used = 0;
    for (uint32_t i = 0; i < count; i++) {
      Napi::TypedArray array = list.Get(i).As<Napi::TypedArray>();
      const uint8_t* data = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
      const size_t length = array.ByteLength();
      if (next_burst < burst_count && bursts[next_burst * kBurstWords] == i) {
        const DataOutBurst burst = Burst(bursts + next_burst * kBurstWords);
        FrameDataOut(burst, data, length, arena.data() + arena_used, &chunks);  // checked above
        arena_used += DataOutPduCount(burst) * kDataOutArenaPerPdu;
        next_burst++;
        continue;
      }
      if (length > 0) chunks.push_back({data, length});
    }
    size_t first_unsent = 0;
    if (pending_.empty()) {
      size_t sent = 0;
      if (!Send(chunks.data(), chunks.size(), &sent)) return Napi::Boolean::New(env, false);
      while (first_unsent < chunks.size() && sent >= chunks[first_unsent].length) sent -= chunks[first_unsent++].length;
      if (first_unsent == chunks.size()) {
        spare_arena_ = std::move(arena);  // nothing points into it any more: the next tick reuses it
        return Napi::Boolean::New(env, true);
      }
      chunks[first_unsent].data += sent;
      chunks[first_unsent].length -= sent;
    }
    // The kernel took part of it: the rest waits, and the JS buffers and this tick's headers stay until it is sent.
    pinned_.push_back(Napi::Persistent(list.As<Napi::Object>()));
    if (!arena.empty()) pinned_arenas_.push_back(std::move(arena));
    pending_.insert(pending_.end(), chunks.begin() + static_cast<std::ptrdiff_t>(first_unsent), chunks.end());
    Watch();
    return Napi::Boolean::New(env, false);
  }

  // Words of one burst descriptor: [buffer index, ITT, LUN bytes 0-3, LUN bytes 4-7, TTT, ExpStatSN, Buffer Offset,
  // length, MaxRecvDataSegmentLength, flags (1 header digest, 2 data digest)], as lib/wire/connection.ts writes them.
  static constexpr size_t kBurstWords = 10;
  static DataOutBurst Burst(const uint32_t* w) {
    DataOutBurst burst{};
    burst.itt = w[1];
    for (int i = 0; i < 4; i++) {
      burst.lun[i] = static_cast<uint8_t>(w[2] >> (24 - 8 * i));
      burst.lun[4 + i] = static_cast<uint8_t>(w[3] >> (24 - 8 * i));
    }
    burst.ttt = w[4];
    burst.exp_stat_sn = w[5];
    burst.offset = w[6];
    burst.length = w[7];
    burst.max_segment = w[8];
    burst.header_digest = (w[9] & 1) != 0;
    burst.data_digest = (w[9] & 2) != 0;
    return burst;
  }

  // Sends as much of `chunks` as the socket takes without blocking. False after a fatal error (the read side then
  // sees the connection end and reports it).
  bool Send(const WireChunk* chunks, size_t count, size_t* sent) {
    *sent = 0;
    size_t at = 0;
    size_t skip = 0;  // bytes of chunks[at] already sent
    while (at < count) {
      iovec iov[IOV_MAX];
      int n = 0;
      size_t want = 0;
      for (size_t i = at; i < count && n < IOV_MAX; i++, n++) {
        const size_t offset = i == at ? skip : 0;
        iov[n].iov_base = const_cast<uint8_t*>(chunks[i].data + offset);
        iov[n].iov_len = chunks[i].length - offset;
        want += iov[n].iov_len;
      }
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = static_cast<size_t>(n);
      const ssize_t w = sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        write_failed_ = true;  // EPIPE, ECONNRESET: reading will meet the end of the connection
        pending_.clear();
        pinned_.clear();
        pinned_arenas_.clear();
        return false;
      }
      *sent += static_cast<size_t>(w);
      size_t left = static_cast<size_t>(w);
      while (at < count && left >= chunks[at].length - skip) {
        left -= chunks[at].length - skip;
        skip = 0;
        at++;
      }
      skip += left;
      if (static_cast<size_t>(w) < want) return true;  // the socket buffer is full
    }
    return true;
  }

  void FlushPending() {
    if (pending_.empty()) return;
    std::vector<WireChunk>& chunks = chunks_;
    chunks.assign(pending_.begin(), pending_.end());
    size_t sent = 0;
    if (!Send(chunks.data(), chunks.size(), &sent)) {
      Watch();
      return;
    }
    while (!pending_.empty() && sent >= pending_.front().length) {
      sent -= pending_.front().length;
      pending_.pop_front();
    }
    if (!pending_.empty()) {
      pending_.front().data += sent;
      pending_.front().length -= sent;
      return;
    }
    pinned_.clear();
    pinned_arenas_.clear();
    Watch();
    if (ending_) shutdown(fd_, SHUT_WR);
    Napi::HandleScope scope(Env());
    Call(on_drain_, {});
  }

  // Graceful: the write side shuts once everything queued is sent; reading goes on until the peer closes.
  void End(const Napi::CallbackInfo&) {
    if (closed_ || ending_) return;
    ending_ = true;
    if (pending_.empty()) shutdown(fd_, SHUT_WR);
  }

  // setReading(false): stop reading (the peer sees a hung process; TCP stays up); true: read again.
  void SetReading(const Napi::CallbackInfo& info) {
    reading_ = info[0].ToBoolean();
    Watch();
  }

  // Stops watching and closes the fd; no callback follows. destroy(true) closes abortively (SO_LINGER 0: an RST,
  // and the kernel drops what is still unsent), so no byte of a command queued here can leave later, e.g. after a
  // silently cut path comes back: the failover layer relies on it before it re-drives a write. What was already
  // sent may still be in a queue on the way (a slow link's qdisc, a switch) and reach the peer after the RST left
  // here: destroy(true) returns what TCP knew of that just before, { unackedBytes, srttUs, rttvarUs, rtoUs,
  // deliveryRate } (rtoUs without backoff, deliveryRate in bytes/s), so the caller can wait out the flight (lib/mpio/write-fence.ts). Else undefined.
  Napi::Value Destroy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value in_flight = env.Undefined();
    if (!closed_ && info.Length() > 0 && info[0].ToBoolean()) {
      in_flight = TcpInFlight(env, fd_);
      const struct linger abortive = {1, 0};
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    Shut();
    return in_flight;
  }

  // ---- lifetime ----

  void Watch() {
    if (closed_) return;
    const int events = (reading_ ? UV_READABLE : 0) | (pending_.empty() ? 0 : UV_WRITABLE);
    if (events == watching_) return;
    watching_ = events;
    uv_poll_start(poll_, events, OnPoll);
  }

  // The connection ended (code null: the peer closed it) or failed: stop, close, tell JS once.
  void Close(const char* code, const std::string& message) {
    if (closed_) return;
    Napi::FunctionReference on_close = std::move(on_close_);  // Shut() lets go of the callbacks; this one is due
    Shut();
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (code) Call(on_close, {Napi::String::New(env, code), Napi::String::New(env, message)});
    else Call(on_close, {env.Null(), env.Null()});
  }

  void Shut() {
    if (closed_) return;
    closed_ = true;
    pending_.clear();
    pinned_.clear();
    pinned_arenas_.clear();
    // Persistent references are GC roots, and the callbacks close over the connection: held past the close, they
    // would keep every closed connection and its deframer's buffers (about 0.7 MB) alive for good.
    on_read_.Reset();
    on_drain_.Reset();
    on_close_.Reset();
    deframer_ref_.Reset();
    if (poll_) {
      uv_poll_stop(poll_);
      ReleaseHandle();
    }
    Unref();
  }

  // The fd closes now, so the connection is gone when destroy() returns (netstat must not list a closed session);
  // that is safe once the poll is stopped (docs.libuv.org poll: never close an fd while it is polled). The handles
  // themselves are freed when libuv is done with them.
  void ReleaseHandle() {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
    timer_ = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
    poll_ = nullptr;
    close(fd_);
    fd_ = -1;
  }

  // Calls into JS from a libuv callback: microtasks and nextTicks run after it, and a throw is reported as uncaught.
  void Call(const Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
    try {
      fn.MakeCallback(Value(), args, context_);
    } catch (const Napi::Error& error) {
      napi_fatal_exception(Env(), error.Value());
    }
  }

  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  int watching_ = 0;
  int low_water_ = 1;
  bool stalled_ = false;
  size_t read_bytes_ = 0;  // what the last ReadAvailable() read
  size_t awaiting_status_ = 0;  // commands sent whose status has not come (as JS last said, less those seen since)
  bool coalesce_ = false;
  bool reading_ = true;  // the coalescing delay ran out: no low-water mark until the next readable event
  bool closed_ = false;
  bool ending_ = false;
  bool write_failed_ = false;
  DeframerBinding* deframer_ = nullptr;
  Napi::ObjectReference deframer_ref_;
  Napi::FunctionReference on_read_, on_drain_, on_close_;
  Napi::AsyncContext context_;
  std::deque<WireChunk> pending_;
  std::vector<Napi::ObjectReference> pinned_;
  std::vector<std::vector<uint8_t>> pinned_arenas_;  // Data-Out headers of writes still pending
  std::vector<uint8_t> spare_arena_;                 // the last fully sent tick's arena, reused
  std::vector<WireChunk> chunks_;                    // scratch gather list, reused every tick
};

ModuleRegistration registration(SocketPump::Init);

}  // namespace
}  // namespace iscsi
