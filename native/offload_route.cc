// Egress interface of a connection: an rtnetlink RTM_GETROUTE lookup by destination, source and bound device,
// which is what `ip route get DST from SRC [oif DEV]` asks and so honours policy routing. Unprivileged.
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "addon.h"
#include "offload_netlink.h"

namespace iscsi::offload {
namespace {

struct Address {
  int family = 0;
  unsigned char bytes[16] = {};
  size_t size() const { return family == AF_INET ? 4 : 16; }
};

// IPv4-mapped IPv6 peers (dual-stack sockets) route as IPv4.
bool ParseAddress(const std::string& text, Address& out) {
  if (::inet_pton(AF_INET, text.c_str(), out.bytes) == 1) {
    out.family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), out.bytes) != 1) return false;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes, mapped, 12) == 0) {
    std::memmove(out.bytes, out.bytes + 12, 4);
    out.family = AF_INET;
  } else {
    out.family = AF_INET6;
  }
  return true;
}

bool IsUnspecified(const Address& a) {
  for (size_t i = 0; i < a.size(); i++)
    if (a.bytes[i] != 0) return false;
  return true;
}

struct RouteRequest {
  nlmsghdr header;
  rtmsg route;
  char attributes[128];
};

void AddAttribute(RouteRequest& req, unsigned short type, const void* data, size_t size) {
  auto* attr = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&req) + NLMSG_ALIGN(req.header.nlmsg_len));
  attr->rta_type = type;
  attr->rta_len = RTA_LENGTH(size);
  std::memcpy(RTA_DATA(attr), data, size);
  req.header.nlmsg_len = NLMSG_ALIGN(req.header.nlmsg_len) + RTA_ALIGN(attr->rta_len);
}

const char* RouteTypeName(unsigned char type) {
  switch (type) {
    case RTN_UNICAST: return "unicast";
    case RTN_LOCAL: return "local";
    case RTN_BROADCAST: return "broadcast";
    case RTN_MULTICAST: return "multicast";
    case RTN_BLACKHOLE: return "blackhole";
    case RTN_UNREACHABLE: return "unreachable";
    case RTN_PROHIBIT: return "prohibit";
    default: return "other";
  }
}

Napi::Value LookupOne(Napi::Env env, NetlinkSocket& nl, Napi::Object query) {
  Address dst, src;
  Napi::Value remote = query.Get("remoteAddress");
  if (!remote.IsString() || !ParseAddress(remote.As<Napi::String>().Utf8Value(), dst))
    throw Napi::TypeError::New(env, "routeEgress: remoteAddress must be an IPv4 or IPv6 address string");
  Napi::Value local = query.Get("localAddress");
  bool haveSrc = false;
  if (local.IsString()) {
    if (!ParseAddress(local.As<Napi::String>().Utf8Value(), src))
      throw Napi::TypeError::New(env, "routeEgress: localAddress must be an IPv4 or IPv6 address string");
    haveSrc = src.family == dst.family && !IsUnspecified(src);
  }
  uint32_t oif = 0;
  Napi::Value bound = query.Get("boundIfindex");
  if (bound.IsNumber()) oif = bound.As<Napi::Number>().Uint32Value();

  RouteRequest req{};
  req.header.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.header.nlmsg_type = RTM_GETROUTE;
  req.header.nlmsg_flags = NLM_F_REQUEST;
  req.route.rtm_family = static_cast<unsigned char>(dst.family);
  req.route.rtm_dst_len = static_cast<unsigned char>(dst.size() * 8);
  AddAttribute(req, RTA_DST, dst.bytes, dst.size());
  if (haveSrc) {
    req.route.rtm_src_len = static_cast<unsigned char>(src.size() * 8);
    AddAttribute(req, RTA_SRC, src.bytes, src.size());
  }
  if (oif != 0) AddAttribute(req, RTA_OIF, &oif, sizeof oif);

  Napi::Object result = Napi::Object::New(env);
  int err = nl.transact(&req, req.header.nlmsg_len, [&](const nlmsghdr* msg) {
    if (msg->nlmsg_type != RTM_NEWROUTE) return;
    auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(msg));
    result.Set("type", RouteTypeName(rt->rtm_type));
    int len = static_cast<int>(RTM_PAYLOAD(msg));
    for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      char text[INET6_ADDRSTRLEN] = "";
      switch (a->rta_type) {
        case RTA_OIF: {
          uint32_t index = 0;
          std::memcpy(&index, RTA_DATA(a), sizeof index);
          result.Set("ifindex", index);
          char name[IF_NAMESIZE] = "";
          if (::if_indextoname(index, name) != nullptr) result.Set("ifname", name);
          break;
        }
        case RTA_PREFSRC:
          ::inet_ntop(rt->rtm_family, RTA_DATA(a), text, sizeof text);
          result.Set("preferredSource", text);
          break;
        case RTA_GATEWAY:
          ::inet_ntop(rt->rtm_family, RTA_DATA(a), text, sizeof text);
          result.Set("gateway", text);
          break;
        default:
          break;
      }
    }
  });
  if (err != 0) {
    result.Set("errno", err);
    result.Set("error", std::strerror(err));
  }
  return result;
}

// routeEgress([{remoteAddress, localAddress?, boundIfindex?}]) -> [{ifindex?, ifname?, type?, preferredSource?,
// gateway?, errno?, error?}], one answer per query, all over one netlink socket.
Napi::Value RouteEgress(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray())
    throw Napi::TypeError::New(env, "routeEgress(queries): queries must be an array");
  Napi::Array queries = info[0].As<Napi::Array>();
  NetlinkSocket nl(NETLINK_ROUTE);
  if (!nl.ok()) ThrowSystemError(env, "ERTNETLINK", nl.openError(), "cannot open a NETLINK_ROUTE socket");
  Napi::Array out = Napi::Array::New(env, queries.Length());
  for (uint32_t i = 0; i < queries.Length(); i++) {
    Napi::Value q = queries.Get(i);
    if (!q.IsObject()) throw Napi::TypeError::New(env, "routeEgress: every query must be an object");
    out.Set(i, LookupOne(env, nl, q.As<Napi::Object>()));
  }
  return out;
}

void InitRoute(Napi::Env env, Napi::Object exports) {
  exports.Set("offloadRouteEgress", Napi::Function::New(env, RouteEgress, "offloadRouteEgress"));
}

iscsi::ModuleRegistration reg(InitRoute);

}  // namespace
}  // namespace iscsi::offload
