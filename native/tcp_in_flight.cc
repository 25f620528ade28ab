// Read just before an abortive close: the RST stops what is unsent, but what was sent and not yet acknowledged may
// still be queued on the way to the peer. linux/tcp.h, not netinet/tcp.h: glibc's tcp_info lacks the delivery rate.
#include "tcp_in_flight.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>

namespace iscsi {

Napi::Value TcpInFlight(Napi::Env env, int fd) {
  int queued = 0, unsent = 0;
  tcp_info tcp{};
  socklen_t length = sizeof tcp;
  if (ioctl(fd, SIOCOUTQ, &queued) != 0 || ioctl(fd, SIOCOUTQNSD, &unsent) != 0 ||
      getsockopt(fd, IPPROTO_TCP, TCP_INFO, &tcp, &length) != 0) {
    return env.Undefined();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("unackedBytes", std::max(0, queued - unsent));
  out.Set("srttUs", static_cast<double>(tcp.tcpi_rtt));
  out.Set("rttvarUs", static_cast<double>(tcp.tcpi_rttvar));
  out.Set("rtoUs", static_cast<double>(tcp.tcpi_rto >> std::min<unsigned>(tcp.tcpi_backoff, 16)));
  // An older kernel returns a shorter tcp_info: no rate then (the caller waits its longest).
  const bool has_rate = length >= offsetof(tcp_info, tcpi_delivery_rate) + sizeof tcp.tcpi_delivery_rate;
  out.Set("deliveryRate", has_rate ? static_cast<double>(tcp.tcpi_delivery_rate) : 0.0);
  return out;
}

}  // namespace iscsi
