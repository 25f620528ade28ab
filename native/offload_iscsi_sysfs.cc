// The kernel's iSCSI transport classes in sysfs: offload-capable transports (caps), iSCSI hosts (HBAs and
// their netdev), and the kernel-owned sessions and connections. On a host without open-iscsi or offload HBAs
// the classes are absent and every list comes back empty.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <system_error>

#include "addon.h"

namespace iscsi::offload {
namespace {

namespace fs = std::filesystem;

// sysfs attributes are one line; the transport class prints unset values as "(null)" or "<NULL>".
bool ReadAttribute(const fs::path& file, std::string& out) {
  std::ifstream in(file);
  if (!in) return false;
  std::getline(in, out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\r')) out.pop_back();
  return !out.empty() && out != "(null)" && out != "<NULL>";
}

void CopyAttribute(Napi::Object& target, const char* key, const fs::path& dir, const char* attribute) {
  std::string value;
  if (ReadAttribute(dir / attribute, value)) target.Set(key, value);
}

template <typename F>
void ForEachEntry(const fs::path& dir, F&& visit) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) visit(it->path());
}

// The owning SCSI host of a session: its device link resolves to .../hostN/sessionM.
std::string HostOf(const fs::path& sessionDir) {
  std::error_code ec;
  fs::path real = fs::canonical(sessionDir / "device", ec);
  if (ec) return "";
  static const std::regex host("host[0-9]+");
  for (const fs::path& part : real)
    if (std::regex_match(part.string(), host)) return part.string();
  return "";
}

// iscsiSysfs(root = "/sys") -> {transports: [{name, caps}], hosts: [{name, procName?, netdev?, ipaddress?,
// hwaddress?, initiatorName?, portState?, portSpeed?}], sessions: [{name, host?, targetName?, ifaceName?, state?}],
// connections: [{name, session, address?, port?, persistentAddress?, persistentPort?, localPort?}]}
Napi::Value IscsiSysfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  fs::path root = "/sys";
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "iscsiSysfs(root?): root must be a path string");
    root = info[0].As<Napi::String>().Utf8Value();
  }
  fs::path classes = root / "class";

  Napi::Array transports = Napi::Array::New(env);
  ForEachEntry(classes / "iscsi_transport", [&](const fs::path& dir) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", dir.filename().string());
    std::string caps;
    t.Set("caps", ReadAttribute(dir / "caps", caps) ? static_cast<double>(std::strtoul(caps.c_str(), nullptr, 0)) : 0);
    transports.Set(transports.Length(), t);
  });

  Napi::Array hosts = Napi::Array::New(env);
  ForEachEntry(classes / "iscsi_host", [&](const fs::path& dir) {
    Napi::Object h = Napi::Object::New(env);
    const std::string name = dir.filename().string();
    h.Set("name", name);
    CopyAttribute(h, "procName", classes / "scsi_host" / name, "proc_name");
    CopyAttribute(h, "netdev", dir, "netdev");
    CopyAttribute(h, "ipaddress", dir, "ipaddress");
    CopyAttribute(h, "hwaddress", dir, "hwaddress");
    CopyAttribute(h, "initiatorName", dir, "initiatorname");
    CopyAttribute(h, "portState", dir, "port_state");
    CopyAttribute(h, "portSpeed", dir, "port_speed");
    hosts.Set(hosts.Length(), h);
  });

  Napi::Array sessions = Napi::Array::New(env);
  ForEachEntry(classes / "iscsi_session", [&](const fs::path& dir) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("name", dir.filename().string());
    std::string host = HostOf(dir);
    if (!host.empty()) s.Set("host", host);
    CopyAttribute(s, "targetName", dir, "targetname");
    CopyAttribute(s, "ifaceName", dir, "ifacename");
    CopyAttribute(s, "state", dir, "state");
    sessions.Set(sessions.Length(), s);
  });

  Napi::Array connections = Napi::Array::New(env);
  static const std::regex connectionName("connection([0-9]+):([0-9]+)");
  ForEachEntry(classes / "iscsi_connection", [&](const fs::path& dir) {
    std::smatch m;
    const std::string name = dir.filename().string();
    if (!std::regex_match(name, m, connectionName)) return;
    Napi::Object c = Napi::Object::New(env);
    c.Set("name", name);
    c.Set("session", "session" + m[1].str());
    CopyAttribute(c, "address", dir, "address");
    CopyAttribute(c, "port", dir, "port");
    CopyAttribute(c, "persistentAddress", dir, "persistent_address");
    CopyAttribute(c, "persistentPort", dir, "persistent_port");
    CopyAttribute(c, "localPort", dir, "local_port");
    CopyAttribute(c, "state", dir, "state");
    connections.Set(connections.Length(), c);
  });

  Napi::Object out = Napi::Object::New(env);
  out.Set("transports", transports);
  out.Set("hosts", hosts);
  out.Set("sessions", sessions);
  out.Set("connections", connections);
  return out;
}

void InitIscsiSysfs(Napi::Env env, Napi::Object exports) {
  exports.Set("offloadIscsiSysfs", Napi::Function::New(env, IscsiSysfs, "offloadIscsiSysfs"));
}

iscsi::ModuleRegistration reg(InitIscsiSysfs);

}  // namespace
}  // namespace iscsi::offload
