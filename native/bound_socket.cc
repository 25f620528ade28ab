// Creates a TCP socket bound to a chosen adapter, for Node to connect and drive (native.md §2.1 option C, §3):
// SO_BINDTODEVICE keeps a path on its NIC even when the routing table would send every path out of one interface
// (a flat storage VLAN); bind() to a source address with IP_BIND_ADDRESS_NO_PORT picks the address without
// reserving an ephemeral port before connect() knows the 4-tuple. Errors carry the errno name and say what to fix.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "addon.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace iscsi {
namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case ENODEV: return "ENODEV";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EADDRINUSE: return "EADDRINUSE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    default: return "ESOCKET";
  }
}

[[noreturn]] void Fail(Napi::Env env, int fd, int err, const std::string& message) {
  if (fd >= 0) close(fd);
  ThrowSystemError(env, ErrnoName(err), err, message + ": " + strerror(err));
}

// createBoundSocket({family: 4 | 6, sourceAddress?: string, device?: string}) -> fd (non-blocking, not connected)
Napi::Value CreateBoundSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = info[0].As<Napi::Object>();
  const int family = options.Get("family").As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
  const std::string source = options.Has("sourceAddress") && options.Get("sourceAddress").IsString()
                                 ? options.Get("sourceAddress").As<Napi::String>().Utf8Value()
                                 : "";
  const std::string device = options.Has("device") && options.Get("device").IsString()
                                 ? options.Get("device").As<Napi::String>().Utf8Value()
                                 : "";

  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail(env, -1, errno, "cannot create a TCP socket");

  const int one = 1;
  // Small PDUs (R2T answers, NOP-Outs, status) must not wait for Nagle; large ones go out with writev anyway.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (!device.empty()) {
    if (device.size() >= IFNAMSIZ) Fail(env, fd, ENODEV, "interface name '" + device + "' is too long");
    if (if_nametoindex(device.c_str()) == 0) {
      Fail(env, fd, ENODEV, "no network interface named '" + device + "' on this host (see `ip link`)");
    }
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size() + 1)) != 0) {
      const int err = errno;
      Fail(env, fd, err,
           err == EPERM ? "binding to interface '" + device + "' needs CAP_NET_RAW on this kernel (Linux < 5.7)"
                        : "cannot bind the socket to interface '" + device + "'");
    }
  }

  if (!source.empty()) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);  // best effort: Linux 4.2+
    sockaddr_storage address{};
    socklen_t length = 0;
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&address);
      in->sin_family = AF_INET;
      if (inet_pton(AF_INET, source.c_str(), &in->sin_addr) != 1) {
        Fail(env, fd, EINVAL, "source address '" + source + "' is not an IPv4 address");
      }
      length = sizeof(sockaddr_in);
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
      in6->sin6_family = AF_INET6;
      if (inet_pton(AF_INET6, source.c_str(), &in6->sin6_addr) != 1) {
        Fail(env, fd, EINVAL, "source address '" + source + "' is not an IPv6 address");
      }
      if (!device.empty()) in6->sin6_scope_id = if_nametoindex(device.c_str());  // link-local needs a scope
      length = sizeof(sockaddr_in6);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
      const int err = errno;
      Fail(env, fd, err,
           err == EADDRNOTAVAIL ? "source address " + source + " is not assigned to any interface of this host (see `ip addr`)"
                                : "cannot bind the socket to source address " + source);
    }
  }
  return Napi::Number::New(env, fd);
}

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createBoundSocket", Napi::Function::New(env, CreateBoundSocket));
}

ModuleRegistration registration(Init);

}  // namespace
}  // namespace iscsi
