// Query parameters converted from JS for PQsendQueryParams and friends.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <cstring>
#include <string>
#include <vector>

namespace pqnode {

// Strings are sent in text format, Buffers in binary format, null as SQL NULL. The
// storage lives as long as this object: libpq copies the values while sending.
class Params {
 public:
  Params(Napi::Env env, Napi::Value values, Napi::Value types) {
    if (values.IsArray()) {
      Napi::Array array = values.As<Napi::Array>();
      const uint32_t count = array.Length();
      texts_.resize(count);
      pointers_.resize(count, nullptr);
      lengths_.resize(count, 0);
      formats_.resize(count, 0);
      buffers_.reserve(count);
      for (uint32_t i = 0; i < count; i++) {
        Napi::Value value = array.Get(i);
        if (value.IsNull() || value.IsUndefined()) continue;
        if (value.IsBuffer()) {
          Napi::Buffer<char> buffer = value.As<Napi::Buffer<char>>();
          buffers_.push_back(buffer);  // keeps the handle in this scope
          pointers_[i] = buffer.Length() > 0 ? buffer.Data() : "";
          lengths_[i] = static_cast<int>(buffer.Length());
          formats_[i] = 1;
          continue;
        }
        if (!value.IsString()) {
          throw Napi::TypeError::New(env, "parameter $" + std::to_string(i + 1) + " must be a string, a Buffer or null");
        }
        texts_[i] = value.As<Napi::String>().Utf8Value();
        // text parameters travel as C strings: a NUL would silently cut the value short
        if (std::memchr(texts_[i].data(), '\0', texts_[i].size()) != nullptr) {
          throw Napi::TypeError::New(env, "parameter $" + std::to_string(i + 1) + " contains a NUL byte");
        }
        pointers_[i] = texts_[i].c_str();
        lengths_[i] = static_cast<int>(texts_[i].size());
      }
    }
    if (types.IsArray()) {
      Napi::Array array = types.As<Napi::Array>();
      types_.resize(array.Length());
      for (uint32_t i = 0; i < array.Length(); i++) types_[i] = array.Get(i).ToNumber().Uint32Value();
      if (values.IsArray() && types_.size() != pointers_.size()) {
        throw Napi::TypeError::New(env, "values and type OIDs differ in length");
      }
    }
  }

  int count() const { return static_cast<int>(pointers_.size()); }
  int type_count() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.empty() ? nullptr : types_.data(); }
  const char* const* values() const { return pointers_.empty() ? nullptr : pointers_.data(); }
  const int* lengths() const { return lengths_.empty() ? nullptr : lengths_.data(); }
  const int* formats() const { return formats_.empty() ? nullptr : formats_.data(); }

 private:
  std::vector<std::string> texts_;
  std::vector<Napi::Buffer<char>> buffers_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

}  // namespace pqnode
