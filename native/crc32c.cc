// PLACEHOLDER: a byte-wise table CRC32C so the tree builds; replaced by the dispatching implementation.
#include "crc32c.h"

namespace iscsi {

static uint32_t table[256];
static bool table_ready = [] {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    table[i] = c;
  }
  return true;
}();

static uint32_t ExtendBytewise(uint32_t crc, const uint8_t* data, size_t size) {
  (void)table_ready;
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t Crc32c(uint32_t crc, const uint8_t* data, size_t size) { return ExtendBytewise(crc, data, size); }

static const Crc32cImplementation kImplementations[] = {{"bytewise", true, ExtendBytewise}};
const Crc32cImplementation* Crc32cImplementations(size_t* count) {
  *count = 1;
  return kImplementations;
}
const char* Crc32cActiveImplementation() { return "bytewise"; }

}  // namespace iscsi
