// A netlink socket that sends one request and walks the reply messages (dump or single answer).
// Shared by the sock_diag enumerator and the rtnetlink route lookup.
#pragma once
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

namespace iscsi::offload {

class NetlinkSocket {
 public:
  explicit NetlinkSocket(int protocol) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd_ >= 0) {
      sockaddr_nl local{};
      local.nl_family = AF_NETLINK;
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        error_ = errno;
        ::close(fd_);
        fd_ = -1;
      }
    } else {
      error_ = errno;
    }
  }
  ~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  int openError() const { return error_; }

  // Sends `request` (a complete nlmsghdr + payload) and hands every reply message to `onMessage` until the
  // dump ends (NLMSG_DONE) or, for a non-dump request, the first answer arrives. Returns 0 or a positive errno.
  int transact(void* request, size_t length, const std::function<void(const nlmsghdr*)>& onMessage) {
    auto* header = static_cast<nlmsghdr*>(request);
    header->nlmsg_seq = ++sequence_;
    const bool dump = (header->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = ::sendto(fd_, request, length, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return errno;

    // Dumps arrive in skbs of up to 32 KiB; a large buffer lets one recv take a whole skb.
    if (buffer_.empty()) buffer_.resize(256 * 1024);
    for (;;) {
      ssize_t got = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (got == 0) return EPIPE;
      int remaining = static_cast<int>(got);
      for (auto* msg = reinterpret_cast<nlmsghdr*>(buffer_.data()); NLMSG_OK(msg, remaining);
           msg = NLMSG_NEXT(msg, remaining)) {
        if (msg->nlmsg_seq != sequence_) continue;  // a late answer to an earlier request
        if (msg->nlmsg_type == NLMSG_DONE) return 0;
        if (msg->nlmsg_type == NLMSG_ERROR) {
          auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(msg));
          if (err->error == 0 && !dump) return 0;  // an ACK
          if (err->error != 0) return -err->error;
          continue;
        }
        onMessage(msg);
        if (!dump) return 0;
      }
    }
  }

 private:
  int fd_ = -1;
  int error_ = 0;
  unsigned sequence_ = 0;
  std::vector<char> buffer_;
};

}  // namespace iscsi::offload
