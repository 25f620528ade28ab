// CRC32C dispatch: every implementation compiled for this architecture, the fastest one this CPU runs picked on
// first use. The implementations live in crc32c_<kind>.h, included only here.
#include "crc32c.h"

#include "crc32c_arm64.h"
#include "crc32c_avx512.h"
#include "crc32c_portable.h"
#include "crc32c_x86.h"

namespace iscsi {

namespace {

using Extend = uint32_t (*)(uint32_t crc, const uint8_t* data, size_t size);

// Wrappers with the default target so the table holds plain function pointers.
#if defined(__x86_64__)
uint32_t ExtendAvx512(uint32_t crc, const uint8_t* data, size_t size) {
  return crc32c_detail::ExtendAvx512(crc, data, size);
}
uint32_t ExtendSse42(uint32_t crc, const uint8_t* data, size_t size) {
  return crc32c_detail::ExtendX86(crc, data, size);
}
#endif
#if defined(__aarch64__)
uint32_t ExtendArmv8(uint32_t crc, const uint8_t* data, size_t size) {
  return crc32c_detail::ExtendArm64(crc, data, size);
}
#endif

// Fastest first; `supported` is filled in at first use.
Crc32cImplementation implementations[] = {
#if defined(__x86_64__)
    {"avx512-vpclmul", false, ExtendAvx512},
    {"sse4.2", false, ExtendSse42},
#endif
#if defined(__aarch64__)
    {"armv8-crc", false, ExtendArmv8},
#endif
    {"slicing-by-8", true, crc32c_detail::ExtendPortable},
};
constexpr size_t kImplementationCount = sizeof(implementations) / sizeof(implementations[0]);

const Crc32cImplementation* Detect() {
  for (Crc32cImplementation& impl : implementations) {
#if defined(__x86_64__)
    if (impl.extend == ExtendAvx512) impl.supported = crc32c_detail::Avx512Supported();
    if (impl.extend == ExtendSse42) impl.supported = crc32c_detail::X86Supported();
#endif
#if defined(__aarch64__)
    if (impl.extend == ExtendArmv8) impl.supported = crc32c_detail::Arm64Supported();
#endif
  }
  for (const Crc32cImplementation& impl : implementations)
    if (impl.supported) return &impl;
  return &implementations[kImplementationCount - 1];
}

// Function-local static: thread-safe, and correct even when another file's static initializer digests first.
const Crc32cImplementation& Active() {
  static const Crc32cImplementation* chosen = Detect();
  return *chosen;
}

// The hot path skips the guard of the function-local static after the first call.
uint32_t ExtendFirstCall(uint32_t crc, const uint8_t* data, size_t size);
Extend extend_active = ExtendFirstCall;

uint32_t ExtendFirstCall(uint32_t crc, const uint8_t* data, size_t size) {
  Extend chosen = Active().extend;
  __atomic_store_n(&extend_active, chosen, __ATOMIC_RELAXED);  // points at code and constexpr tables only
  return chosen(crc, data, size);
}

}  // namespace

uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t size) {
  return __atomic_load_n(&extend_active, __ATOMIC_RELAXED)(crc, data, size);
}

const Crc32cImplementation* Crc32cImplementations(size_t* count) {
  Active();
  *count = kImplementationCount;
  return implementations;
}

const char* Crc32cActiveImplementation() { return Active().name; }

}  // namespace iscsi
