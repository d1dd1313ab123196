// Text → JS value conversions for the built-in types the native layer decodes itself.
// Which decoder applies to which type OID is chosen by the TypeScript layer.
#pragma once

#include <node_api.h>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pqnode {

// NativeDecoder in lib/native.ts, checked at load against the addon's `constants`.
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
  kPgTimestampTz = 9,
  kCount = 10,
};

// OID → decoder, and whether what the decoder makes is final: no JS typecaster follows
// it (then rows may leave C++ already shaped as objects). An OID the table does not name is
// text, not final. Built-in OIDs are small, so they live in a flat array; others in a map.
class DecoderTable {
 public:
  // the bit that marks an entry final (NATIVE_FINAL in lib/native.ts, checked at load)
  static constexpr uint8_t kFinal = 0x80;

  void Clear();
  // `entry` is a Decoder, with kFinal or'ed in when its value is final
  void Set(uint32_t oid, uint8_t entry);
  Decoder Get(uint32_t oid) const { return static_cast<Decoder>(Entry(oid) & ~kFinal); }
  // the decoder, and in `*final` whether its value is final
  Decoder Get(uint32_t oid, bool* final) const {
    const uint8_t entry = Entry(oid);
    *final = (entry & kFinal) != 0;
    return static_cast<Decoder>(entry & ~kFinal);
  }
  bool IsFinal(uint32_t oid) const { return (Entry(oid) & kFinal) != 0; }

 private:
  uint8_t Entry(uint32_t oid) const {
    if (oid < kFlatSize) return flat_[oid];
    auto it = others_.find(oid);
    return it == others_.end() ? 0 : it->second;
  }

  static constexpr uint32_t kFlatSize = 8192;
  std::vector<uint8_t> flat_ = std::vector<uint8_t>(kFlatSize, 0);
  std::unordered_map<uint32_t, uint8_t> others_;
};

// What decoding one value found besides the value.
struct DecodeNotes {
  // the value has no JS equivalent (a timestamp beyond a Date's range): it is null
  bool out_of_range = false;
  // a date or timestamp in a DateStyle other than ISO: it is left as its text, for the JS
  // layer to read with the session's DateStyle and TimeZone
  bool other_style = false;
};

// Converts one non-NULL value. Falls back to a string when the text is not in the expected
// form, so no value is ever lost; `notes` says when that string still needs reading. Notes
// are only ever set, never cleared: one DecodeNotes may gather those of many values.
napi_value DecodeValue(napi_env env, Decoder decoder, const char* text, int length, DecodeNotes* notes);

// An ISO timestamp's fields, the year proleptic (1 BC is 0).
struct TimestampParts {
  int64_t year, month, day, hour, minute, second, millis;
  int64_t offset_seconds;  // east of UTC; 0 without a zone
};
bool ParseTimestampParts(const char* text, int length, bool with_zone, TimestampParts* parts);

// Exposed for the unit tests of the date arithmetic.
bool ParseTimestamp(const char* text, int length, bool with_zone, double* millis);

}  // namespace pqnode
