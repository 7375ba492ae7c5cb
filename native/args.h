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
  // One N-API call in the common case: napi_get_value_double fails for anything not a number.
  double d;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) {
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be of type number");
    return false;
  }
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
// Every wait call reads one, so the common case (a number) costs a single N-API call.
inline bool ReadTimeout(const Napi::CallbackInfo& info, size_t i, double* ms) {
  napi_env env = info.Env();
  Napi::Value v = info[i];
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    if (v.IsUndefined() || v.IsNull()) {
      *ms = -1;
      return true;
    }
    ThrowTypeError(info.Env(), "The \"timeout\" argument must be of type number");
    return false;
  }
  if (std::isnan(d) || d > 2147483647.0) {
    ThrowRangeError(info.Env(), "The value of \"timeout\" is out of range");
    return false;
  }
  *ms = d < 0 ? -1 : d;
  return true;
}

// An Int32Array's elements, read with one N-API call (wait calls take one each time).
struct Int32Span {
  int32_t* data = nullptr;
  size_t length = 0;
};

inline bool ReadInt32Span(const Napi::CallbackInfo& info, size_t i, const char* name,
                          Int32Span* out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_status st = napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr,
                                            nullptr);
  if (st != napi_ok || type != napi_int32_array) {
    ThrowTypeError(info.Env(), std::string("The \"") + name + "\" argument must be an Int32Array");
    return false;
  }
  // A detached buffer reports length 0 and no data: callers treat that as too short.
  out->data = static_cast<int32_t*>(data);
  out->length = data == nullptr ? 0 : length;
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

// The (fd, buf, offset, length) every single-buffer transfer takes, at info[0..3]: checks that
// the range lies inside buf, a Uint8Array (a Buffer is one).
struct FdSpan {
  int fd = -1;
  uint8_t* data = nullptr;
  size_t len = 0;
};

inline bool ReadFdSpan(const Napi::CallbackInfo& info, FdSpan* out) {
  if (!ReadFd(info, 0, &out->fd)) return false;
  Napi::Value v = info[1];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(info.Env(), "The \"buffer\" argument must be an instance of Uint8Array");
    return false;
  }
  Napi::Uint8Array buf = v.As<Napi::Uint8Array>();
  int64_t offset, length;
  double size = static_cast<double>(buf.ElementLength());
  if (!ReadInt(info, 2, "offset", 0, size, &offset)) return false;
  if (!ReadInt(info, 3, "length", 0, size - static_cast<double>(offset), &length)) return false;
  out->data = buf.Data() + offset;
  out->len = static_cast<size_t>(length);
  return true;
}

inline bool ReadBool(const Napi::CallbackInfo& info, size_t i, bool dflt, bool* out) {
  Napi::Value v = info[i];
  *out = v.IsUndefined() ? dflt : v.ToBoolean().Value();
  return true;
}

}  // namespace iomux
