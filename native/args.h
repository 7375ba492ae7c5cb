// Cheap arity and type readers for JS-callable functions. TS validates arguments with Node's
// wording first; these only make sure a wrong direct call throws instead of reading garbage.
// Each returns false after throwing, so a call site reads `if (!ReadFd(info, 0, &fd)) return;`.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

#include "errors.h"

namespace iomux {

inline bool ReadInt(const Napi::CallbackInfo& info, size_t i, const char* name, double lo,
                    double hi, int64_t* out) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be of type number");
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || std::trunc(d) != d) {
    ThrowRangeError(info.Env(), std::string("The value of \"") + name + "\" is out of range");
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

inline bool ReadInt32(const Napi::CallbackInfo& info, size_t i, const char* name, int32_t* out) {
  int64_t v;
  if (!ReadInt(info, i, name, -2147483648.0, 2147483647.0, &v)) return false;
  *out = static_cast<int32_t>(v);
  return true;
}

inline bool ReadUint32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  int64_t v;
  if (!ReadInt(info, i, name, 0, 4294967295.0, &v)) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

inline bool ReadFd(const Napi::CallbackInfo& info, size_t i, int* fd) {
  int64_t v;
  if (!ReadInt(info, i, "fd", 0, 2147483647.0, &v)) return false;
  *fd = static_cast<int>(v);
  return true;
}

// Native timeout convention (TS maps the public table onto it): a number of milliseconds,
// fractions allowed; any negative value means wait forever. undefined/null also mean forever.
inline bool ReadTimeout(const Napi::CallbackInfo& info, size_t i, double* ms) {
  Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) {
    *ms = -1;
    return true;
  }
  if (!v.IsNumber()) {
    ThrowTypeError(info.Env(), "The \"timeout\" argument must be of type number");
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::isnan(d) || d > 2147483647.0) {
    ThrowRangeError(info.Env(), "The value of \"timeout\" is out of range");
    return false;
  }
  *ms = d < 0 ? -1 : d;
  return true;
}

inline bool ReadInt32Array(const Napi::CallbackInfo& info, size_t i, const char* name,
                           Napi::Int32Array* out) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be an Int32Array");
    return false;
  }
  *out = v.As<Napi::Int32Array>();
  return true;
}

inline bool ReadBool(const Napi::CallbackInfo& info, size_t i, bool dflt, bool* out) {
  Napi::Value v = info[i];
  *out = v.IsUndefined() ? dflt : v.ToBoolean().Value();
  return true;
}

}  // namespace iomux
