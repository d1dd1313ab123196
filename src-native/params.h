// Query parameters converted from JS for PQsendQueryParams and friends.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <climits>
#include <cstddef>
#include <string>

#include "small_array.h"
#include "utf8.h"

namespace pqnode {

// Strings are sent in text format, Buffers in binary format, null as SQL NULL. The
// storage lives as long as this object: libpq copies the values while sending. A Buffer's
// bytes are its own, held by the values array for as long as the call lasts.
class Params {
 public:
  Params(Napi::Env env, Napi::Value values, Napi::Value types) {
    bool has_values = false;
    if (!values.IsEmpty()) napi_is_array(env, values, &has_values);
    if (has_values) {
      uint32_t count = 0;
      napi_get_array_length(env, values, &count);
      ReadValues(env, count, [env, values](uint32_t i, napi_value* value) {
        return napi_get_element(env, values, i, value) == napi_ok;
      });
    }
    bool has_types = false;
    if (!types.IsEmpty()) napi_is_array(env, types, &has_types);
    if (has_types) {
      ReadTypes(env, types);
      if (has_values && types_.size() != pointers_.size()) {
        throw Napi::TypeError::New(env, "values and type OIDs differ in length");
      }
    }
  }

  // Values given one by one (as a call's arguments): reading each element of an array
  // through Node-API costs ~600 instructions, more than converting a short string.
  Params(Napi::Env env, const napi_value* values, size_t count) {
    ReadValues(env, static_cast<uint32_t>(count), [values](uint32_t i, napi_value* value) {
      *value = values[i];
      return true;
    });
  }

  int count() const { return static_cast<int>(pointers_.size()); }
  int type_count() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  static constexpr size_t kInlineParams = 8;

  // `get(i, &value)` reads value i; false when reading it threw
  template <typename Get>
  void ReadValues(napi_env env, uint32_t count, Get get) {
    pointers_.Resize(count);
    lengths_.Resize(count);
    formats_.Resize(count);
    // where each text value starts among the bytes: pointers are taken once all are in
    SmallArray<size_t, kInlineParams> text_at;
    text_at.Resize(count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value value;
      napi_valuetype type;
      if (!get(i, &value) || napi_typeof(env, value, &type) != napi_ok) {
        // an exception thrown while reading (a getter, a proxy) is the one to report
        bool pending = false;
        napi_is_exception_pending(env, &pending);
        if (pending) throw Napi::Error::New(env);
        throw Napi::Error::New(env, "cannot read parameter $" + std::to_string(i + 1));
      }
      text_at[i] = kNotText;
      if (type == napi_null || type == napi_undefined) continue;
      if (type == napi_string) {
        size_t length = 0;
        bytes_.Append(env, value, &text_at[i], &length);
        // text parameters travel as C strings: a NUL would silently cut the value short
        if (bytes_.HasNul(text_at[i], length)) {
          throw Napi::TypeError::New(env, "parameter $" + std::to_string(i + 1) + " contains a NUL byte");
        }
        lengths_[i] = CheckedLength(env, i, length);
        continue;
      }
      bool is_buffer = false;
      if (type == napi_object) napi_is_buffer(env, value, &is_buffer);
      if (!is_buffer) {
        throw Napi::TypeError::New(env, "parameter $" + std::to_string(i + 1) + " must be a string, a Buffer or null");
      }
      void* data = nullptr;
      size_t length = 0;
      napi_get_buffer_info(env, value, &data, &length);
      pointers_[i] = length > 0 ? static_cast<const char*>(data) : "";
      lengths_[i] = CheckedLength(env, i, length);
      formats_[i] = 1;
    }
    for (uint32_t i = 0; i < count; i++) {
      if (text_at[i] != kNotText) pointers_[i] = bytes_.At(text_at[i]);
    }
  }

  // libpq takes lengths as int: a longer value would go out cut short, or as garbage
  static int CheckedLength(napi_env env, uint32_t i, size_t length) {
    if (length > static_cast<size_t>(INT_MAX)) {
      throw Napi::RangeError::New(env, "parameter $" + std::to_string(i + 1) + " is " + std::to_string(length) +
                                           " bytes: more than libpq can send in one value");
    }
    return static_cast<int>(length);
  }

  void ReadTypes(napi_env env, napi_value array) {
    uint32_t count = 0;
    napi_get_array_length(env, array, &count);
    types_.Resize(count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value value;
      napi_get_element(env, array, i, &value);
      uint32_t oid = 0;
      if (napi_get_value_uint32(env, value, &oid) != napi_ok) {
        oid = Napi::Value(env, value).ToNumber().Uint32Value();
      }
      types_[i] = oid;
    }
  }

  static constexpr size_t kNotText = static_cast<size_t>(-1);

  Utf8Bytes<512> bytes_;
  SmallArray<const char*, kInlineParams> pointers_;
  SmallArray<int, kInlineParams> lengths_;
  SmallArray<int, kInlineParams> formats_;
  SmallArray<Oid, kInlineParams> types_;
};

}  // namespace pqnode
