// Per-interface offload features and driver/link facts through the SIOCETHTOOL ioctl (GET commands are
// unprivileged): the feature-string table, GFEATURES blocks, driver info and link settings.
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"

namespace iscsi::offload {
namespace {

class EthtoolDevice {
 public:
  EthtoolDevice(Napi::Env env, const std::string& name) : env_(env), name_(name) {
    if (name.empty() || name.size() >= IFNAMSIZ)
      throw Napi::TypeError::New(env, "interface name must be 1.." + std::to_string(IFNAMSIZ - 1) + " characters");
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fd_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) ThrowSystemError(env, "ESOCKET", errno, "cannot open a socket for ethtool ioctls");
  }
  ~EthtoolDevice() { ::close(fd_); }

  // Returns 0 or errno; ENODEV is raised as a typed error since every later call would fail the same way.
  int call(void* command) {
    ifreq request{};
    std::strncpy(request.ifr_name, name_.c_str(), IFNAMSIZ - 1);
    request.ifr_data = static_cast<char*>(command);
    if (::ioctl(fd_, SIOCETHTOOL, &request) == 0) return 0;
    int err = errno;
    if (err == ENODEV) ThrowSystemError(env_, "ENODEV", err, "no such network interface: " + name_);
    return err;
  }

 private:
  Napi::Env env_;
  std::string name_;
  int fd_ = -1;
};

std::string InterfaceName(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + "(name): name must be an interface name string");
  return info[0].As<Napi::String>().Utf8Value();
}

// netdevFeatures(name) -> {available, requested, active, fixed: string[]} in kernel feature names.
Napi::Value NetdevFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EthtoolDevice dev(env, InterfaceName(info, "netdevFeatures"));

  // The uapi structs end in flexible arrays, so each command lives in a zeroed, 8-byte aligned buffer.
  std::vector<uint64_t> ssetBuf((sizeof(ethtool_sset_info) + sizeof(uint32_t) + 7) / 8);
  auto* sset = reinterpret_cast<ethtool_sset_info*>(ssetBuf.data());
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  if (int err = dev.call(sset)) ThrowSystemError(env, "EETHTOOL", err, "ETHTOOL_GSSET_INFO failed");
  const uint32_t count = sset->sset_mask ? sset->data[0] : 0;

  std::vector<uint64_t> stringsBuf((sizeof(ethtool_gstrings) + count * ETH_GSTRING_LEN + 7) / 8);
  auto* strings = reinterpret_cast<ethtool_gstrings*>(stringsBuf.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_FEATURES;
  strings->len = count;
  if (int err = dev.call(strings)) ThrowSystemError(env, "EETHTOOL", err, "ETHTOOL_GSTRINGS failed");

  const uint32_t blocks = (count + 31) / 32;
  std::vector<uint64_t> featBuf((sizeof(ethtool_gfeatures) + blocks * sizeof(ethtool_get_features_block) + 7) / 8);
  auto* features = reinterpret_cast<ethtool_gfeatures*>(featBuf.data());
  features->cmd = ETHTOOL_GFEATURES;
  features->size = blocks;
  if (int err = dev.call(features)) ThrowSystemError(env, "EETHTOOL", err, "ETHTOOL_GFEATURES failed");

  Napi::Array available = Napi::Array::New(env), requested = Napi::Array::New(env), active = Napi::Array::New(env),
              fixed = Napi::Array::New(env);
  for (uint32_t i = 0; i < count; i++) {
    const char* raw = reinterpret_cast<const char*>(strings->data) + i * ETH_GSTRING_LEN;
    std::string name(raw, strnlen(raw, ETH_GSTRING_LEN));
    if (name.empty()) continue;
    const ethtool_get_features_block& b = features->features[i / 32];
    const uint32_t bit = 1u << (i % 32);
    if (b.available & bit) available.Set(available.Length(), name);
    if (b.requested & bit) requested.Set(requested.Length(), name);
    if (b.active & bit) active.Set(active.Length(), name);
    // As `ethtool -k` marks "[fixed]": not changeable by the user.
    if (!(b.available & bit) || (b.never_changed & bit)) fixed.Set(fixed.Length(), name);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("available", available);
  out.Set("requested", requested);
  out.Set("active", active);
  out.Set("fixed", fixed);
  return out;
}

std::string Field(const char* raw, size_t size) { return std::string(raw, strnlen(raw, size)); }

// netdevInfo(name) -> {driver?, version?, firmware?, busInfo?, speedMbps?, duplex?, link?}; facts a driver does
// not implement are left out rather than guessed.
Napi::Value NetdevInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EthtoolDevice dev(env, InterfaceName(info, "netdevInfo"));
  Napi::Object out = Napi::Object::New(env);

  ethtool_drvinfo drv{};
  drv.cmd = ETHTOOL_GDRVINFO;
  if (dev.call(&drv) == 0) {
    out.Set("driver", Field(drv.driver, sizeof drv.driver));
    if (drv.version[0]) out.Set("version", Field(drv.version, sizeof drv.version));
    if (drv.fw_version[0]) out.Set("firmware", Field(drv.fw_version, sizeof drv.fw_version));
    if (drv.bus_info[0]) out.Set("busInfo", Field(drv.bus_info, sizeof drv.bus_info));
  }

  // GLINKSETTINGS handshake: the first call reports (negated) how many mask words the kernel uses.
  std::vector<uint64_t> linkBuf((sizeof(ethtool_link_settings) + 3 * 127 * sizeof(uint32_t) + 7) / 8);
  auto* link = reinterpret_cast<ethtool_link_settings*>(linkBuf.data());
  link->cmd = ETHTOOL_GLINKSETTINGS;
  if (dev.call(link) == 0 && link->link_mode_masks_nwords < 0) {
    int8_t words = static_cast<int8_t>(-link->link_mode_masks_nwords);
    std::fill(linkBuf.begin(), linkBuf.end(), 0);
    link->cmd = ETHTOOL_GLINKSETTINGS;
    link->link_mode_masks_nwords = words;
    if (dev.call(link) == 0) {
      uint32_t speed = link->speed;
      if (speed != 0 && speed != static_cast<uint32_t>(SPEED_UNKNOWN)) out.Set("speedMbps", speed);
      if (link->duplex == DUPLEX_FULL) out.Set("duplex", "full");
      else if (link->duplex == DUPLEX_HALF) out.Set("duplex", "half");
    }
  }

  ethtool_value linkUp{};
  linkUp.cmd = ETHTOOL_GLINK;
  if (dev.call(&linkUp) == 0) out.Set("link", linkUp.data != 0);
  return out;
}

void InitEthtool(Napi::Env env, Napi::Object exports) {
  exports.Set("offloadNetdevFeatures", Napi::Function::New(env, NetdevFeatures, "offloadNetdevFeatures"));
  exports.Set("offloadNetdevInfo", Napi::Function::New(env, NetdevInfo, "offloadNetdevInfo"));
}

iscsi::ModuleRegistration reg(InitEthtool);

}  // namespace
}  // namespace iscsi::offload
