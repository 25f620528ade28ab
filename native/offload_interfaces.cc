// Every network interface (with or without addresses, unlike os.networkInterfaces()): index, flags, MAC, MTU
// and addresses, from getifaddrs(3) and SIOCGIFMTU.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "addon.h"

namespace iscsi::offload {
namespace {

int PrefixLength(const sockaddr* mask) {
  if (mask == nullptr) return 0;
  const unsigned char* bytes;
  size_t size;
  if (mask->sa_family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(mask)->sin_addr);
    size = 4;
  } else {
    bytes = reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr);
    size = 16;
  }
  int bits = 0;
  for (size_t i = 0; i < size; i++) bits += __builtin_popcount(bytes[i]);
  return bits;
}

// interfaces() -> [{name, ifindex, up, running, loopback, mtu?, mac?, addresses: [{family, address, prefixLength}]}]
Napi::Value Interfaces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) ThrowSystemError(env, "EIFADDRS", errno, "getifaddrs failed");
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> guard(list, ::freeifaddrs);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  std::map<std::string, Napi::Object> byName;
  Napi::Array out = Napi::Array::New(env);
  auto entry = [&](const ifaddrs* ifa) -> Napi::Object {
    auto it = byName.find(ifa->ifa_name);
    if (it != byName.end()) return it->second;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", ifa->ifa_name);
    o.Set("ifindex", ::if_nametoindex(ifa->ifa_name));
    o.Set("up", (ifa->ifa_flags & IFF_UP) != 0);
    o.Set("running", (ifa->ifa_flags & IFF_RUNNING) != 0);
    o.Set("loopback", (ifa->ifa_flags & IFF_LOOPBACK) != 0);
    if (fd >= 0) {
      ifreq req{};
      std::strncpy(req.ifr_name, ifa->ifa_name, IFNAMSIZ - 1);
      if (::ioctl(fd, SIOCGIFMTU, &req) == 0) o.Set("mtu", req.ifr_mtu);
    }
    o.Set("addresses", Napi::Array::New(env));
    out.Set(out.Length(), o);
    byName.emplace(ifa->ifa_name, o);
    return o;
  };

  for (const ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    Napi::Object iface = entry(ifa);
    if (ifa->ifa_addr == nullptr) continue;
    const int family = ifa->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      auto* ll = reinterpret_cast<const sockaddr_ll*>(ifa->ifa_addr);
      if (ll->sll_halen == 6) {
        char mac[18];
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0], ll->sll_addr[1],
                      ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
        iface.Set("mac", mac);
      }
    } else if (family == AF_INET || family == AF_INET6) {
      char text[INET6_ADDRSTRLEN] = "";
      const void* raw = family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr);
      ::inet_ntop(family, raw, text, sizeof text);
      Napi::Object addr = Napi::Object::New(env);
      addr.Set("family", family == AF_INET ? 4 : 6);
      addr.Set("address", text);
      addr.Set("prefixLength", PrefixLength(ifa->ifa_netmask));
      Napi::Array addresses = iface.Get("addresses").As<Napi::Array>();
      addresses.Set(addresses.Length(), addr);
    }
  }
  if (fd >= 0) ::close(fd);
  return out;
}

void InitInterfaces(Napi::Env env, Napi::Object exports) {
  exports.Set("offloadInterfaces", Napi::Function::New(env, Interfaces, "offloadInterfaces"));
}

iscsi::ModuleRegistration reg(InitInterfaces);

}  // namespace
}  // namespace iscsi::offload
