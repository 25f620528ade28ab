// JS binding of CRC32C: crc32c(buf, crc?), crc32cWith(name, buf, crc?), crc32cImplementations(), crc32cActive.
// Reads the caller's bytes in place (no copy); Data() already includes the view's byteOffset, which matters for
// Buffers sliced from Node's shared pool.
#include <cmath>
#include <cstring>
#include <string>

#include "addon.h"
#include "crc32c.h"

namespace {

using iscsi::Crc32cImplementation;

const Crc32cImplementation* FindImplementation(const std::string& name) {
  size_t count = 0;
  const Crc32cImplementation* impls = iscsi::Crc32cImplementations(&count);
  for (size_t i = 0; i < count; i++)
    if (name == impls[i].name) return &impls[i];
  return nullptr;
}

Napi::TypedArrayOf<uint8_t> BytesArgument(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": buf must be a Uint8Array or Buffer");
  return value.As<Napi::TypedArrayOf<uint8_t>>();
}

// The CRC to extend: omitted or undefined means 0 (a fresh digest); otherwise an integer in 0..2^32-1.
uint32_t CrcArgument(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (info.Length() <= index || info[index].IsUndefined()) return 0;
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": crc must be a number");
  double crc = info[index].As<Napi::Number>().DoubleValue();
  if (!(crc >= 0 && crc <= 4294967295.0) || std::floor(crc) != crc)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": crc must be an integer from 0 to 0xffffffff");
  return uint32_t(crc);
}

Napi::Value Crc32cJs(const Napi::CallbackInfo& info) {
  Napi::TypedArrayOf<uint8_t> buf = BytesArgument(info, 0, "crc32c");
  uint32_t crc = CrcArgument(info, 1, "crc32c");
  return Napi::Number::New(info.Env(), iscsi::Crc32c(crc, buf.Data(), buf.ByteLength()));
}

Napi::Value Crc32cWithJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "crc32cWith: name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  const Crc32cImplementation* impl = FindImplementation(name);
  if (impl == nullptr) {
    Napi::Error error = Napi::Error::New(info.Env(), "crc32cWith: no CRC32C implementation named '" + name + "'");
    error.Set("code", Napi::String::New(info.Env(), "ECRC32CIMPL"));
    throw error;
  }
  if (!impl->supported) {
    Napi::Error error = Napi::Error::New(info.Env(), "crc32cWith: this CPU cannot run '" + name + "'");
    error.Set("code", Napi::String::New(info.Env(), "ENOTSUP"));
    throw error;
  }
  Napi::TypedArrayOf<uint8_t> buf = BytesArgument(info, 1, "crc32cWith");
  uint32_t crc = CrcArgument(info, 2, "crc32cWith");
  return Napi::Number::New(info.Env(), impl->extend(crc, buf.Data(), buf.ByteLength()));
}

Napi::Value Crc32cImplementationsJs(const Napi::CallbackInfo& info) {
  size_t count = 0;
  const Crc32cImplementation* impls = iscsi::Crc32cImplementations(&count);
  Napi::Array list = Napi::Array::New(info.Env(), count);
  for (size_t i = 0; i < count; i++) {
    Napi::Object entry = Napi::Object::New(info.Env());
    entry.Set("name", Napi::String::New(info.Env(), impls[i].name));
    entry.Set("supported", Napi::Boolean::New(info.Env(), impls[i].supported));
    list.Set(uint32_t(i), entry);
  }
  return list;
}

void InitCrc32c(Napi::Env env, Napi::Object exports) {
  exports.Set("crc32c", Napi::Function::New(env, Crc32cJs, "crc32c"));
  exports.Set("crc32cWith", Napi::Function::New(env, Crc32cWithJs, "crc32cWith"));
  exports.Set("crc32cImplementations", Napi::Function::New(env, Crc32cImplementationsJs, "crc32cImplementations"));
  exports.Set("crc32cActive", Napi::String::New(env, iscsi::Crc32cActiveImplementation()));
}

iscsi::ModuleRegistration registration(InitCrc32c);

}  // namespace
