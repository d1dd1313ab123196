#include "result_builder.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "error_fields.h"
#include "libpq_compat.h"
#include "small_array.h"

namespace pqnode {

namespace {

AddonData* Addon(napi_env env) {
  AddonData* addon = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&addon));
  return addon;
}

napi_value BuildFields(napi_env env, const PGresult* result, int columns) {
  AddonData* addon = Addon(env);
  napi_value constructor = addon != nullptr ? addon->FieldConstructor(env) : nullptr;
  if (constructor == nullptr) throw Napi::Error::New(env, "cannot compile the field constructor");
  napi_value fields;
  napi_create_array_with_length(env, columns, &fields);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (int column = 0; column < columns; column++) {
    const char* name = PQfname(result, column);  // COPY results have columns without names
    napi_value args[7];
    napi_create_string_utf8(env, name != nullptr ? name : "", NAPI_AUTO_LENGTH, &args[0]);
    napi_create_uint32(env, PQftable(result, column), &args[1]);
    napi_create_int32(env, PQftablecol(result, column), &args[2]);
    napi_create_uint32(env, PQftype(result, column), &args[3]);
    napi_create_int32(env, PQfsize(result, column), &args[4]);
    napi_create_int32(env, PQfmod(result, column), &args[5]);
    napi_create_int32(env, PQfformat(result, column), &args[6]);
    napi_value field;
    if (napi_call_function(env, undefined, constructor, 7, args, &field) != napi_ok) {
      throw Napi::Error::New(env, "cannot build a field");
    }
    napi_set_element(env, fields, column, field);
  }
  napi_object_freeze(env, fields);
  return fields;
}

// The decoder of each column. Binary columns are handed over as raw bytes; only text is
// decoded here.
using ColumnDecoders = SmallArray<Decoder, 32>;

// What building rows found besides the rows.
struct RowsNotes {
  // what decoding the values found (other_style stays set once a value set it)
  DecodeNotes values;
  // the first value that has no JS equivalent, described
  std::string decode_error;
  // a column is left to a JS typecaster, which may meet dates in the session's DateStyle
  bool for_js = false;
};

void ReadColumnDecoders(const PGresult* result, int columns, const DecoderTable& decoders, ColumnDecoders& out,
                        RowsNotes* notes) {
  out.Resize(columns);
  for (int column = 0; column < columns; column++) {
    if (PQfformat(result, column) != 0) {
      out[column] = Decoder::kBytea;
      continue;
    }
    bool final = false;
    out[column] = decoders.Get(PQftype(result, column), &final);
    if (!final) notes->for_js = true;
  }
}

// The values of one row, decoded into `values`; what they hold besides goes to `notes`.
void DecodeRow(napi_env env, const PGresult* result, int row, int columns, ColumnDecoders& column_decoders,
               napi_value null_value, napi_value* values, RowsNotes* notes) {
  for (int column = 0; column < columns; column++) {
    napi_value value;
    if (PQgetisnull(result, row, column)) {
      value = null_value;
    } else if (PQfformat(result, column) != 0) {
      void* data = nullptr;
      const int length = PQgetlength(result, row, column);
      if (napi_create_buffer_copy(env, length, PQgetvalue(result, row, column), &data, &value) != napi_ok) {
        // JS no longer runs (a worker ending), or memory ran out
        value = null_value;
        if (notes->decode_error.empty()) {
          notes->decode_error = std::string("column \"") + PQfname(result, column) + "\": cannot make a Buffer of " +
                                std::to_string(length) + " bytes";
        }
      }
    } else {
      const char* text = PQgetvalue(result, row, column);
      const int length = PQgetlength(result, row, column);
      value = DecodeValue(env, column_decoders[column], text, length, &notes->values);
      if (notes->values.out_of_range) {
        notes->values.out_of_range = false;
        if (notes->decode_error.empty()) {
          notes->decode_error = std::string("column \"") + PQfname(result, column) +
                                "\": value out of range for a JS Date: " + std::string(text, length);
        }
      }
    }
    values[column] = value;
  }
}

// A result whose dates the JS layer reads (some in another DateStyle than ISO, or in a column
// a JS typecaster reads while the session's DateStyle is not ISO) keeps the session's
// DateStyle and TimeZone as libpq knew them when the result came: a statement that changes
// them later must not change how this one's values are read.
void KeepDateStyle(Napi::Env env, Napi::Object target, const PGconn* conn, const RowsNotes& notes) {
  const bool other_style = notes.values.other_style;
  if (!other_style && !notes.for_js) return;
  const char* date_style = PQparameterStatus(conn, "DateStyle");
  if (!other_style && (date_style == nullptr || std::strncmp(date_style, "ISO", 3) == 0)) return;
  if (!target.Get("dateStyle").IsUndefined()) return;  // the rows before these said it already
  const char* time_zone = PQparameterStatus(conn, "TimeZone");
  target.Set("dateStyle", date_style != nullptr ? Napi::Value(Napi::String::New(env, date_style)) : env.Null());
  target.Set("timeZone", time_zone != nullptr ? Napi::Value(Napi::String::New(env, time_zone)) : env.Null());
}

// The rows of `result`, appended by `row_constructor` ((rows, a0, ..., an-1) => void) to
// `rows` (a new array when null). Without a constructor: JS arrays, set from index `offset` on.
napi_value BuildRows(napi_env env, const PGresult* result, int columns, const DecoderTable& decoders,
                     RowsNotes* notes, napi_value row_constructor, napi_value rows = nullptr, uint32_t offset = 0) {
  // arguments of the row constructor: the rows array, then the row's values
  SmallArray<napi_value, 32> arguments;
  arguments.Resize(columns + 1);
  napi_value* values = &arguments[1];
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  const int row_count = PQntuples(result);
  ColumnDecoders column_decoders;
  ReadColumnDecoders(result, columns, decoders, column_decoders, notes);
  if (rows == nullptr) {
    if (row_constructor != nullptr) {
      napi_create_array(env, &rows);  // the constructor appends to it
    } else {
      napi_create_array_with_length(env, row_count, &rows);
    }
  }
  arguments[0] = rows;
  napi_value null_value;
  napi_get_null(env, &null_value);
  for (int row = 0; row < row_count; row++) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    DecodeRow(env, result, row, columns, column_decoders, null_value, values, notes);
    napi_value ignored;
    if (row_constructor == nullptr ||
        napi_call_function(env, undefined, row_constructor, columns + 1, arguments.data(), &ignored) != napi_ok) {
      napi_value row_value;
      napi_create_array_with_length(env, columns, &row_value);
      for (int column = 0; column < columns; column++) napi_set_element(env, row_value, column, values[column]);
      napi_set_element(env, rows, offset + row, row_value);
    }
    napi_close_handle_scope(env, scope);
  }
  return rows;
}

// A result of one row in one call: `constructor` (a one-row result constructor) takes
// `append` (the row constructor), the result's status, command, rowCount and fields (the
// first four of `head`), whether rows are objects, then the row's values.
napi_value BuildOneRowResult(napi_env env, napi_value constructor, napi_value append, const napi_value* head,
                             bool objects, const PGresult* result, int columns, const DecoderTable& decoders,
                             RowsNotes* notes) {
  SmallArray<napi_value, 38> args;
  args.Resize(columns + 6);
  args[0] = append;
  for (int i = 0; i < 4; i++) args[i + 1] = head[i];
  napi_get_boolean(env, objects, &args[5]);
  ColumnDecoders column_decoders;
  ReadColumnDecoders(result, columns, decoders, column_decoders, notes);
  napi_value null_value, undefined, built;
  napi_get_null(env, &null_value);
  napi_get_undefined(env, &undefined);
  DecodeRow(env, result, 0, columns, column_decoders, null_value, &args[6], notes);
  if (napi_call_function(env, undefined, constructor, columns + 6, args.data(), &built) != napi_ok) {
    throw Napi::Error::New(env, "cannot build a result");
  }
  return built;
}

}  // namespace

void AppendRows(Napi::Env env, const PGconn* conn, Napi::Object target, const PGresult* result,
                const DecoderTable& decoders, FieldsCache& fields_cache) {
  Napi::Array rows = target.Get("rows").As<Napi::Array>();
  RowsNotes notes;
  const int columns = PQnfields(result);
  AddonData* addon = Addon(env);
  napi_value row_constructor = nullptr;
  if (target.Get("objectRows").ToBoolean()) {
    // the same columns as the rows already there: final as they were, the same appender
    row_constructor = fields_cache.ObjectAppender(env, fields_cache.Lookup(env, result));
    if (row_constructor == nullptr) throw Napi::Error::New(env, "cannot make row objects for the rest of a result");
  } else if (addon != nullptr) {
    row_constructor = addon->RowConstructor(env, columns);
  }
  BuildRows(env, result, columns, decoders, &notes, row_constructor, rows, rows.Length());
  if (!notes.decode_error.empty() && target.Get("decodeError").IsUndefined()) {
    target.Set("decodeError", Napi::String::New(env, notes.decode_error));
  }
  if (PQntuples(result) > 0) KeepDateStyle(env, target, conn, notes);
}

bool HasCommandTag(const PGresult* result) {
  const char* command = PQcmdStatus(const_cast<PGresult*>(result));
  return command != nullptr && command[0] != '\0';
}

// PQcmdTuples gives the count in decimal digits, a uint64 on the server: read without
// strtod, which costs more than the rest of a small result's tag
static double CountOf(const char* digits) {
  uint64_t count = 0;
  for (const char* p = digits; *p >= '0' && *p <= '9'; p++) count = count * 10 + static_cast<uint64_t>(*p - '0');
  return static_cast<double>(count);
}

CommandTag CommandTagOf(const PGresult* result) {
  const char* command = PQcmdStatus(const_cast<PGresult*>(result));
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(result));
  const bool has_count = tuples != nullptr && tuples[0] != '\0';
  return {command != nullptr ? command : "", has_count ? CountOf(tuples) : -1};
}

void FinishMergedResult(Napi::Env env, Napi::Object target, const PGresult* result, const CommandTag& tag) {
  AddonData* addon = Addon(env);
  napi_value finisher = addon != nullptr ? addon->ResultFinisher(env) : nullptr;
  if (finisher == nullptr) throw Napi::Error::New(env, "cannot compile the result finisher");
  napi_value args[4];
  args[0] = target;
  napi_create_int32(env, PQresultStatus(result), &args[1]);
  napi_create_string_utf8(env, tag.command.c_str(), tag.command.size(), &args[2]);
  napi_create_double(env, tag.row_count, &args[3]);
  napi_value undefined, ignored;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, finisher, 4, args, &ignored) != napi_ok) {
    throw Napi::Error::New(env, "cannot finish a result");
  }
}

bool FieldsCache::Describes(const Entry& entry, const PGresult* result, int columns) {
  if (entry.fields.IsEmpty() || entry.columns.size() != static_cast<size_t>(columns)) return false;
  for (int c = 0; c < columns; c++) {
    const Column& column = entry.columns[c];
    const char* name = PQfname(result, c);
    if (column.type != PQftype(result, c) || column.table != PQftable(result, c) ||
        column.column_id != PQftablecol(result, c) || column.size != PQfsize(result, c) ||
        column.modifier != PQfmod(result, c) || column.format != PQfformat(result, c) ||
        column.name != (name != nullptr ? name : "")) {
      return false;
    }
  }
  return true;
}

FieldsCache::Entry& FieldsCache::Lookup(napi_env env, const PGresult* result) {
  const int columns = PQnfields(result);
  for (Entry& entry : entries_) {
    if (Describes(entry, result, columns)) return entry;
  }
  napi_value fields = BuildFields(env, result, columns);
  Entry& entry = entries_[next_];
  next_ = (next_ + 1) % kEntries;
  entry.columns.clear();
  for (int c = 0; c < columns; c++) {
    const char* name = PQfname(result, c);
    entry.columns.push_back({name != nullptr ? name : "", PQftable(result, c), PQftablecol(result, c), PQftype(result, c),
                             PQfsize(result, c), PQfmod(result, c), PQfformat(result, c)});
  }
  entry.fields = Napi::Persistent(Napi::Array(env, fields));
  entry.object_appender.Reset();
  entry.object_appender_tried = false;
  return entry;
}

napi_value FieldsCache::ObjectAppender(napi_env env, Entry& entry) {
  if (!entry.object_appender_tried) {
    entry.object_appender_tried = true;
    AddonData* addon = Addon(env);
    if (addon == nullptr || addon->object_row_maker.IsEmpty() || entry.columns.size() > AddonData::kMaxRowArguments) {
      return nullptr;
    }
    napi_value undefined, appender;
    napi_get_undefined(env, &undefined);
    napi_value fields = entry.fields.Value();
    if (napi_call_function(env, undefined, addon->object_row_maker.Value(), 1, &fields, &appender) != napi_ok) {
      return nullptr;
    }
    napi_valuetype type;
    if (napi_typeof(env, appender, &type) != napi_ok || type != napi_function) return nullptr;
    entry.object_appender = Napi::Persistent(Napi::Function(env, appender));
  }
  if (entry.object_appender.IsEmpty()) return nullptr;
  return entry.object_appender.Value();
}

void FieldsCache::Clear() {
  for (Entry& entry : entries_) {
    entry.columns.clear();
    entry.fields.Reset();
    entry.object_appender.Reset();
    entry.object_appender_tried = false;
  }
}

// Whether every column's value leaves C++ as the user gets it: then a row may be an object.
static bool AllFinal(const PGresult* result, int columns, const DecoderTable& decoders) {
  for (int column = 0; column < columns; column++) {
    if (PQfformat(result, column) != 0 || !decoders.IsFinal(PQftype(result, column))) return false;
  }
  return true;
}

Napi::Object BuildResult(Napi::Env env, const PGconn* conn, const PGresult* result, const DecoderTable& decoders,
                         FieldsCache& fields_cache, bool object_rows, const PGresult* end) {
  AddonData* addon = Addon(env);
  napi_value constructor = addon != nullptr ? addon->ResultConstructor(env) : nullptr;
  if (constructor == nullptr) throw Napi::Error::New(env, "cannot compile the result constructor");
  const ExecStatusType status = PQresultStatus(result);
  // The status is the end's when the rows came as a chunk before it; the command tag is the
  // chunk's when the server ended the command while that chunk was being filled.
  const PGresult* outcome = end != nullptr ? end : result;
  const CommandTag tag = CommandTagOf(end != nullptr && HasCommandTag(end) ? end : result);
  const int columns = PQnfields(result);
  FieldsCache::Entry& entry = fields_cache.Lookup(env, result);
  napi_value args[6];
  napi_create_int32(env, PQresultStatus(outcome), &args[0]);
  napi_create_string_utf8(env, tag.command.c_str(), tag.command.size(), &args[1]);
  napi_create_double(env, tag.row_count, &args[2]);
  args[3] = entry.fields.Value();
  bool objects = false;
  RowsNotes notes;
  napi_value undefined, built = nullptr;
  napi_get_undefined(env, &undefined);
  if (status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE || static_cast<int>(status) == kStatusTuplesChunk) {
    napi_value row_constructor = nullptr;
    if (object_rows && AllFinal(result, columns, decoders)) {
      row_constructor = fields_cache.ObjectAppender(env, entry);
      objects = row_constructor != nullptr;
    }
    if (row_constructor == nullptr && addon != nullptr) row_constructor = addon->RowConstructor(env, columns);
    napi_value one_row = row_constructor != nullptr && PQntuples(result) == 1 && addon != nullptr
                             ? addon->OneRowResultConstructor(env, columns)
                             : nullptr;
    if (one_row != nullptr) {
      built = BuildOneRowResult(env, one_row, row_constructor, args, objects, result, columns, decoders, &notes);
    } else {
      args[4] = BuildRows(env, result, columns, decoders, &notes, row_constructor);
    }
  } else {
    napi_create_array(env, &args[4]);
  }
  if (built == nullptr) {
    napi_get_boolean(env, objects, &args[5]);
    if (napi_call_function(env, undefined, constructor, 6, args, &built) != napi_ok) {
      throw Napi::Error::New(env, "cannot build a result");
    }
  }
  Napi::Object object(env, built);
  if (!notes.decode_error.empty()) object.Set("decodeError", Napi::String::New(env, notes.decode_error));
  if (PQntuples(result) > 0) KeepDateStyle(env, object, conn, notes);
  if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE) {
    object.Set("error", ErrorFieldsToObject(env, result));
    object.Set("errorMessage", Napi::String::New(env, PQresultErrorMessage(result)));
  }
  return object;
}

}  // namespace pqnode
