// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the iSCSI header and data digest (RFC 7143 §13.1).
// Pure C++ (no Node-API) so the fuzzer and sanitizer builds link it alone.
#pragma once
#include <cstddef>
#include <cstdint>

namespace iscsi {

// Extends a finished CRC32C `crc` (0 for an empty prefix) over `size` more bytes: Crc32c(0, "123456789", 9) ==
// 0xE3069283. The fastest implementation this CPU supports, chosen once at load.
uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t size);

// Every implementation compiled in, for tests and benchmarks; `supported` says whether this CPU can run it.
struct Crc32cImplementation {
  const char* name;
  bool supported;
  uint32_t (*extend)(uint32_t crc, const uint8_t* data, size_t size);
};
const Crc32cImplementation* Crc32cImplementations(size_t* count);
const char* Crc32cActiveImplementation();

}  // namespace iscsi
