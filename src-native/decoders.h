// Text → JS value conversions for the built-in types the native layer decodes itself.
// Which decoder applies to which type OID is chosen by the TypeScript layer.
#pragma once

#include <node_api.h>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pqnode {

// Must match NativeDecoder in lib/native.ts.
enum class Decoder : uint8_t {
  kText = 0,
  kInt = 1,
  kFloat = 2,
  kBool = 3,
  kBigInt = 4,
  kBytea = 5,
  kTimestampTz = 6,
  kTimestamp = 7,
  kDate = 8,
  kCount = 9,
};

// OID → decoder. Built-in OIDs are small, so they live in a flat array; others in a map.
class DecoderTable {
 public:
  void Clear();
  void Set(uint32_t oid, Decoder decoder);
  Decoder Get(uint32_t oid) const {
    if (oid < kFlatSize) return flat_[oid];
    auto it = others_.find(oid);
    return it == others_.end() ? Decoder::kText : it->second;
  }

 private:
  static constexpr uint32_t kFlatSize = 8192;
  std::vector<Decoder> flat_ = std::vector<Decoder>(kFlatSize, Decoder::kText);
  std::unordered_map<uint32_t, Decoder> others_;
};

// Converts one non-NULL value. Falls back to a string when the text is not in the
// expected form (e.g. a DateStyle other than ISO), so no value is ever lost. A value that
// has no JS equivalent (a timestamp beyond a Date's range) sets `*failed` and yields null.
napi_value DecodeValue(napi_env env, Decoder decoder, const char* text, int length, bool* failed);

// Exposed for the unit tests of the date arithmetic.
bool ParseTimestamp(const char* text, int length, bool with_zone, double* millis);

}  // namespace pqnode
