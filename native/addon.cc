#include "addon.h"

#include <vector>

namespace iscsi {

std::vector<ModuleInit>& Modules() {
  static std::vector<ModuleInit> modules;  // function-local: safe against static-init order across files
  return modules;
}

ModuleRegistration::ModuleRegistration(ModuleInit init) { Modules().push_back(init); }

void ThrowSystemError(Napi::Env env, const char* code, int err, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  if (err != 0) error.Set("errno", Napi::Number::New(env, err));
  throw error;
}

}  // namespace iscsi

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  for (iscsi::ModuleInit init : iscsi::Modules()) init(env, exports);
  return exports;
}

NODE_API_MODULE(iscsi_mpio, InitAddon)
