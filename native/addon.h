// Each native module registers its exports from its own file, so adding a module never touches addon.cc.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace iscsi {

using ModuleInit = void (*)(Napi::Env env, Napi::Object exports);

// Declared at namespace scope in a module's binding file: `static ModuleRegistration reg(InitFoo);`
std::vector<ModuleInit>& Modules();

struct ModuleRegistration {
  explicit ModuleRegistration(ModuleInit init);
};

// Throws a JS Error carrying `code` (e.g. "ENODEV") and, when non-zero, `errno`.
[[noreturn]] void ThrowSystemError(Napi::Env env, const char* code, int err, const std::string& message);

}  // namespace iscsi
