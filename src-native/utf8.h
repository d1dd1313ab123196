// JS strings as UTF-8 bytes for libpq, converted in one pass into storage that starts
// inline: statement names and most parameter values are short, and they are converted
// for every query (Napi::String::Utf8Value measures the string first, then allocates).
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstring>
#include <vector>

namespace pqnode {

// Bytes appended one string after another, each followed by a NUL (libpq reads statement
// texts and text parameters as C strings). Offsets, not pointers, name what was appended:
// growing moves the bytes.
template <size_t kInlineBytes>
class Utf8Bytes {
 public:
  Utf8Bytes() = default;
  Utf8Bytes(const Utf8Bytes&) = delete;
  Utf8Bytes& operator=(const Utf8Bytes&) = delete;

  // Appends the UTF-8 of `value` (a JS string) and a NUL; false when it is not a string.
  bool Append(napi_env env, napi_value value, size_t* offset, size_t* length) {
    *offset = used_;
    const size_t room = capacity_ - used_;
    size_t written = 0;
    if (napi_get_value_string_utf8(env, value, data_ + used_, room, &written) != napi_ok) return false;
    // V8 never cuts a character (at most 4 bytes) in two and keeps a byte for the NUL: with
    // 5 bytes or more to spare, the string was whole
    if (room - written < 5) {
      size_t full = 0;
      napi_get_value_string_utf8(env, value, nullptr, 0, &full);
      Reserve(used_ + full + 1);
      napi_get_value_string_utf8(env, value, data_ + used_, full + 1, &written);
    }
    used_ += written + 1;
    *length = written;
    return true;
  }

  const char* At(size_t offset) const { return data_ + offset; }
  bool HasNul(size_t offset, size_t length) const { return std::memchr(data_ + offset, '\0', length) != nullptr; }

 private:
  void Reserve(size_t needed) {
    if (needed <= capacity_) return;
    const size_t capacity = needed > 2 * capacity_ ? needed : 2 * capacity_;
    const bool was_inline = data_ == inline_;
    heap_.resize(capacity);
    if (was_inline) std::memcpy(heap_.data(), inline_, used_);
    data_ = heap_.data();
    capacity_ = capacity;
  }

  char inline_[kInlineBytes];
  std::vector<char> heap_;
  char* data_ = inline_;
  size_t capacity_ = kInlineBytes;
  size_t used_ = 0;
};

}  // namespace pqnode
