// Compile-time tables for CRC32C: the slicing-by-8 tables of the portable path and the "shift a lane CRC forward"
// constants the hardware paths use to combine interleaved streams. Built by constexpr so they exist before any
// static initializer runs (other files may digest data from theirs).
#pragma once
#include <cstddef>
#include <cstdint>

namespace iscsi::crc32c_detail {

// Reflected polynomial: bit 31 holds the x^0 coefficient, bit 0 the x^31 one.
constexpr uint32_t kPolynomial = 0x82F63B78u;

// a(x) * b(x) mod P for reflected 32-bit values (zlib's multmodp).
constexpr uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return product;
}

// x^n mod P by square-and-multiply.
constexpr uint32_t XPowerModP(uint64_t n) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 30;  // x^1
  for (; n != 0; n >>= 1) {
    if (n & 1) result = MultiplyModP(result, square);
    square = MultiplyModP(square, square);
  }
  return result;
}

struct SlicingTables {
  uint32_t t[8][256];
};

constexpr SlicingTables MakeSlicingTables() {
  SlicingTables tables{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (kPolynomial & (0u - (c & 1)));
    tables.t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int s = 1; s < 8; s++) tables.t[s][i] = (tables.t[s - 1][i] >> 8) ^ tables.t[0][tables.t[s - 1][i] & 0xff];
  return tables;
}

inline constexpr SlicingTables kSlicing = MakeSlicingTables();

// The interleaved paths split a run into 3 lanes of `words` 8-byte words each (1..kMaxLaneWords) and combine
// crc(A‖B‖C) = shift(crcA, 2L) ^ shift(crcB, L) ^ crcC with L = 8*words bytes. A carry-less product of a
// reflected CRC and K = x^(8L-33) mod P, reduced by the crc32 instruction over its 64 bits (which multiplies by
// x^32, and the reflected product carries one more x), is the CRC shifted by L bytes: hence the "- 33".
constexpr size_t kMaxLaneWords = 512;  // 4 KiB lanes, 12 KiB per round

struct ShiftConstants {
  uint32_t one_lane[kMaxLaneWords + 1];   // [w] = x^(64w - 33) mod P: shift by one lane of w words
  uint32_t two_lanes[kMaxLaneWords + 1];  // [w] = x^(128w - 33) mod P: shift by two lanes
};

constexpr ShiftConstants MakeShiftConstants() {
  ShiftConstants k{};
  const uint32_t x64 = XPowerModP(64), x128 = XPowerModP(128);
  k.one_lane[1] = XPowerModP(64 - 33);
  k.two_lanes[1] = XPowerModP(128 - 33);
  for (size_t w = 2; w <= kMaxLaneWords; w++) {
    k.one_lane[w] = MultiplyModP(k.one_lane[w - 1], x64);
    k.two_lanes[w] = MultiplyModP(k.two_lanes[w - 1], x128);
  }
  return k;
}

inline constexpr ShiftConstants kShift = MakeShiftConstants();

}  // namespace iscsi::crc32c_detail
