#include "decoders.h"

#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace pqnode {

void DecoderTable::Clear() {
  std::fill(flat_.begin(), flat_.end(), 0);
  others_.clear();
}

void DecoderTable::Set(uint32_t oid, uint8_t entry) {
  if (oid < kFlatSize) {
    flat_[oid] = entry;
  } else if (entry == 0) {
    others_.erase(oid);
  } else {
    others_[oid] = entry;
  }
}

namespace {

// ASCII text (most of what a server sends) skips V8's UTF-8 decoder: as Latin-1 it is
// copied byte for byte into a one-byte string, which is what V8 would have made of it.
napi_value MakeString(napi_env env, const char* text, int length) {
  napi_value value;
  bool ascii = true;
  for (int i = 0; i < length; i++) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    napi_create_string_latin1(env, text, length, &value);
  } else {
    napi_create_string_utf8(env, text, length, &value);
  }
  return value;
}

napi_value MakeNumber(napi_env env, double number) {
  napi_value value;
  napi_create_double(env, number, &value);
  return value;
}

// 'infinity' / '-infinity', as dates and timestamps print them.
bool ParseInfinity(const char* text, int length, double* out) {
  if (length == 8 && std::memcmp(text, "infinity", 8) == 0) {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (length == 9 && std::memcmp(text, "-infinity", 9) == 0) {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  return false;
}

// Reads exactly `count` digits; false when one is missing.
bool ReadDigits(const char*& p, const char* end, int count, int64_t* out) {
  int64_t value = 0;
  for (int i = 0; i < count; i++) {
    if (p >= end || *p < '0' || *p > '9') return false;
    value = value * 10 + (*p++ - '0');
  }
  *out = value;
  return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

napi_value DecodeInt(napi_env env, const char* text, int length) {
  int64_t number = 0;
  auto [end, error] = std::from_chars(text, text + length, number);
  if (error != std::errc() || end != text + length) return MakeString(env, text, length);
  return MakeNumber(env, static_cast<double>(number));
}

napi_value DecodeFloat(napi_env env, const char* text, int length) {
  double number = 0;
  auto [end, error] = std::from_chars(text, text + length, number);
  if (error == std::errc::result_out_of_range) {
    // denormals and the like: strtod in the C locale rounds them as PostgreSQL printed them
    return MakeNumber(env, std::strtod(std::string(text, length).c_str(), nullptr));
  }
  if (error != std::errc() || end != text + length) return MakeString(env, text, length);
  return MakeNumber(env, number);
}

napi_value DecodeBigInt(napi_env env, const char* text, int length) {
  int64_t number = 0;
  auto [end, error] = std::from_chars(text, text + length, number);
  if (error != std::errc() || end != text + length) return MakeString(env, text, length);
  napi_value value;
  napi_create_bigint_int64(env, number, &value);
  return value;
}

napi_value DecodeBool(napi_env env, const char* text, int length) {
  if (length != 1 || (text[0] != 't' && text[0] != 'f')) return MakeString(env, text, length);
  napi_value value;
  napi_get_boolean(env, text[0] == 't', &value);
  return value;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Null when no Buffer can be made: the environment no longer runs JS (a worker ending while
// its results are decoded), or memory ran out.
napi_value MakeBuffer(napi_env env, const unsigned char* bytes, size_t size) {
  napi_value value;
  void* data = nullptr;
  if (napi_create_buffer(env, size, &data, &value) != napi_ok) return nullptr;
  if (size > 0) std::memcpy(data, bytes, size);
  return value;
}

napi_value DecodeBytea(napi_env env, const char* text, int length) {
  if (length >= 2 && text[0] == '\\' && text[1] == 'x') {
    const size_t size = (length - 2) / 2;
    napi_value value;
    void* data = nullptr;
    // no Buffer (see MakeBuffer): the text as it came
    if (napi_create_buffer(env, size, &data, &value) != napi_ok) return MakeString(env, text, length);
    auto* out = static_cast<unsigned char*>(data);
    for (size_t i = 0; i < size; i++) {
      const int high = HexValue(text[2 + 2 * i]);
      const int low = HexValue(text[3 + 2 * i]);
      if (high < 0 || low < 0) return MakeString(env, text, length);
      out[i] = static_cast<unsigned char>(high << 4 | low);
    }
    return value;
  }
  // the escape format (bytea_output = 'escape')
  size_t size = 0;
  unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &size);
  if (bytes == nullptr) return MakeString(env, text, length);
  napi_value value = MakeBuffer(env, bytes, size);
  PQfreemem(bytes);
  return value != nullptr ? value : MakeString(env, text, length);
}

napi_value DecodeDate(napi_env env, const char* text, int length, DecodeNotes* notes) {
  double infinity;
  if (ParseInfinity(text, length, &infinity)) return MakeNumber(env, infinity);
  // ISO dates start with a year of four digits or more; the other DateStyles with two digits
  if (length < 3 || text[2] < '0' || text[2] > '9') notes->other_style = true;
  return MakeString(env, text, length);
}

napi_value DecodeTimestamp(napi_env env, const char* text, int length, bool with_zone, DecodeNotes* notes) {
  double millis;
  if (ParseInfinity(text, length, &millis)) return MakeNumber(env, millis);
  if (!ParseTimestamp(text, length, with_zone, &millis)) {
    notes->other_style = true;
    return MakeString(env, text, length);
  }
  // ECMAScript Dates hold ±8.64e15 ms around 1970
  if (std::fabs(millis) > 8.64e15) {
    notes->out_of_range = true;
    napi_value null_value;
    napi_get_null(env, &null_value);
    return null_value;
  }
  napi_value value;
  if (napi_create_date(env, millis, &value) != napi_ok) return MakeString(env, text, length);
  return value;
}

}  // namespace

// ISO DateStyle: 'YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]][ BC]'; the year may
// have more than four digits.
bool ParseTimestampParts(const char* text, int length, bool with_zone, TimestampParts* parts) {
  const char* p = text;
  const char* end = text + length;
  int64_t year = 0;
  int year_digits = 0;
  while (p < end && *p >= '0' && *p <= '9') {
    year = year * 10 + (*p++ - '0');
    if (++year_digits > 9) return false;
  }
  if (year_digits < 4 || p >= end || *p++ != '-') return false;
  int64_t month, day, hour, minute, second;
  if (!ReadDigits(p, end, 2, &month) || p >= end || *p++ != '-') return false;
  if (!ReadDigits(p, end, 2, &day) || p >= end || *p++ != ' ') return false;
  if (!ReadDigits(p, end, 2, &hour) || p >= end || *p++ != ':') return false;
  if (!ReadDigits(p, end, 2, &minute) || p >= end || *p++ != ':') return false;
  if (!ReadDigits(p, end, 2, &second)) return false;
  // fractions of a second: JS Dates hold milliseconds; further digits are dropped
  int64_t fraction_millis = 0;
  if (p < end && *p == '.') {
    p++;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9') {
      if (digits < 3) fraction_millis = fraction_millis * 10 + (*p - '0');
      digits++;
      p++;
    }
    if (digits == 0) return false;
    for (int i = digits; i < 3; i++) fraction_millis *= 10;
  }
  int64_t offset_seconds = 0;
  if (with_zone) {
    if (p >= end || (*p != '+' && *p != '-')) return false;
    const int sign = *p++ == '-' ? -1 : 1;
    int64_t offset_hours, offset_minutes = 0, offset_secs = 0;
    if (!ReadDigits(p, end, 2, &offset_hours)) return false;
    if (p < end && *p == ':') {
      p++;
      if (!ReadDigits(p, end, 2, &offset_minutes)) return false;
      if (p < end && *p == ':') {
        p++;
        if (!ReadDigits(p, end, 2, &offset_secs)) return false;
      }
    }
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60 + offset_secs);
  }
  if (end - p == 3 && std::memcmp(p, " BC", 3) == 0) {
    year = 1 - year;  // 1 BC is year 0 of the proleptic calendar
    p = end;
  }
  if (p != end) return false;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return false;
  *parts = {year, month, day, hour, minute, second, fraction_millis, offset_seconds};
  return true;
}

bool ParseTimestamp(const char* text, int length, bool with_zone, double* millis) {
  TimestampParts parts;
  if (!ParseTimestampParts(text, length, with_zone, &parts)) return false;
  const int64_t days = DaysFromCivil(parts.year, parts.month, parts.day);
  const int64_t seconds = days * 86400 + parts.hour * 3600 + parts.minute * 60 + parts.second - parts.offset_seconds;
  *millis = static_cast<double>(seconds) * 1000.0 + static_cast<double>(parts.millis);
  return true;
}

namespace {

// timestamptz as node-postgres reads it (its postgres-date package): the same instant as
// DecodeTimestamp, and node-postgres's ways at the edges. Date.UTC builds the wall time
// first, so a wall time or an instant beyond a Date's range is an Invalid Date (not an
// error); Date.UTC reads years 0 to 99 as 1900 to 1999 before the year is set back, so
// Feb 29 of year 0 (1 BC) becomes Mar 1, 1900 having none.
napi_value DecodePgTimestampTz(napi_env env, const char* text, int length, DecodeNotes* notes) {
  double millis;
  if (ParseInfinity(text, length, &millis)) return MakeNumber(env, millis);
  TimestampParts parts;
  if (!ParseTimestampParts(text, length, true, &parts)) {
    notes->other_style = true;
    return MakeString(env, text, length);
  }
  if (parts.year == 0 && parts.month == 2 && parts.day == 29) {
    parts.month = 3;
    parts.day = 1;
  }
  constexpr double kDateLimit = 8.64e15;  // ECMAScript Dates hold ±8.64e15 ms around 1970
  const int64_t days = DaysFromCivil(parts.year, parts.month, parts.day);
  const int64_t wall_seconds = days * 86400 + parts.hour * 3600 + parts.minute * 60 + parts.second;
  const double wall = static_cast<double>(wall_seconds) * 1000.0 + static_cast<double>(parts.millis);
  const double instant = wall - static_cast<double>(parts.offset_seconds) * 1000.0;
  if (std::fabs(wall) > kDateLimit || std::fabs(instant) > kDateLimit) millis = std::numeric_limits<double>::quiet_NaN();
  else millis = instant;
  napi_value value;
  if (napi_create_date(env, millis, &value) != napi_ok) return MakeString(env, text, length);
  return value;
}

}  // namespace

napi_value DecodeValue(napi_env env, Decoder decoder, const char* text, int length, DecodeNotes* notes) {
  switch (decoder) {
    case Decoder::kInt:
      return DecodeInt(env, text, length);
    case Decoder::kFloat:
      return DecodeFloat(env, text, length);
    case Decoder::kBool:
      return DecodeBool(env, text, length);
    case Decoder::kBigInt:
      return DecodeBigInt(env, text, length);
    case Decoder::kBytea:
      return DecodeBytea(env, text, length);
    case Decoder::kTimestampTz:
      return DecodeTimestamp(env, text, length, true, notes);
    case Decoder::kTimestamp:
      return DecodeTimestamp(env, text, length, false, notes);
    case Decoder::kDate:
      return DecodeDate(env, text, length, notes);
    case Decoder::kPgTimestampTz:
      return DecodePgTimestampTz(env, text, length, notes);
    default:
      return MakeString(env, text, length);
  }
}

}  // namespace pqnode
