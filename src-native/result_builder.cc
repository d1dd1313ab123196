#include "result_builder.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "addon.h"
#include "error_fields.h"
#include "libpq_compat.h"

namespace pqnode {

namespace {

Napi::Array BuildFields(Napi::Env env, const PGresult* result, int columns) {
  Napi::Array fields = Napi::Array::New(env, columns);
  for (int column = 0; column < columns; column++) {
    Napi::Object field = Napi::Object::New(env);
    const char* name = PQfname(result, column);  // COPY results have columns without names
    field.Set("name", Napi::String::New(env, name != nullptr ? name : ""));
    field.Set("tableOid", Napi::Number::New(env, PQftable(result, column)));
    field.Set("columnId", Napi::Number::New(env, PQftablecol(result, column)));
    field.Set("typeOid", Napi::Number::New(env, PQftype(result, column)));
    field.Set("typeSize", Napi::Number::New(env, PQfsize(result, column)));
    field.Set("typeModifier", Napi::Number::New(env, PQfmod(result, column)));
    field.Set("format", Napi::Number::New(env, PQfformat(result, column)));
    fields.Set(column, field);
  }
  return fields;
}

// The rows of `result` as JS arrays, set in `rows` from index `offset` on (a new array when null).
napi_value BuildRows(napi_env env, const PGresult* result, int columns, const DecoderTable& decoders,
                     std::string* decode_error, napi_value rows = nullptr, uint32_t offset = 0) {
  AddonData* addon = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&addon));
  napi_value row_constructor = addon != nullptr ? addon->RowConstructor(env, columns) : nullptr;
  // arguments of the row constructor: the rows array, then the row's values
  std::vector<napi_value> arguments(columns + 1);
  napi_value* values = arguments.data() + 1;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  const int row_count = PQntuples(result);
  std::vector<Decoder> column_decoders(columns);
  for (int column = 0; column < columns; column++) {
    // binary columns are handed over as raw bytes; only text is decoded here
    column_decoders[column] = PQfformat(result, column) == 0 ? decoders.Get(PQftype(result, column)) : Decoder::kBytea;
  }
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
    for (int column = 0; column < columns; column++) {
      napi_value value;
      if (PQgetisnull(result, row, column)) {
        value = null_value;
      } else if (PQfformat(result, column) != 0) {
        void* data = nullptr;
        const int length = PQgetlength(result, row, column);
        napi_create_buffer_copy(env, length, PQgetvalue(result, row, column), &data, &value);
      } else {
        bool failed = false;
        const char* text = PQgetvalue(result, row, column);
        const int length = PQgetlength(result, row, column);
        value = DecodeValue(env, column_decoders[column], text, length, &failed);
        if (failed && decode_error->empty()) {
          *decode_error = std::string("column \"") + PQfname(result, column) + "\": value out of range for a JS Date: " +
                          std::string(text, length);
        }
      }
      values[column] = value;
    }
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

}  // namespace

void AppendRows(Napi::Env env, Napi::Object target, const PGresult* result, const DecoderTable& decoders) {
  Napi::Array rows = target.Get("rows").As<Napi::Array>();
  std::string decode_error;
  BuildRows(env, result, PQnfields(result), decoders, &decode_error, rows, rows.Length());
  if (!decode_error.empty() && !target.Has("decodeError")) target.Set("decodeError", Napi::String::New(env, decode_error));
}

Napi::Object BuildResult(Napi::Env env, const PGresult* result, const DecoderTable& decoders) {
  Napi::Object object = Napi::Object::New(env);
  const ExecStatusType status = PQresultStatus(result);
  object.Set("status", Napi::Number::New(env, status));
  const char* command = PQcmdStatus(const_cast<PGresult*>(result));
  object.Set("command", Napi::String::New(env, command != nullptr ? command : ""));
  const char* tuples = PQcmdTuples(const_cast<PGresult*>(result));
  const bool has_count = tuples != nullptr && tuples[0] != '\0';
  object.Set("rowCount", Napi::Number::New(env, has_count ? std::strtod(tuples, nullptr) : -1));
  const int columns = PQnfields(result);
  object.Set("fields", BuildFields(env, result, columns));
  if (status == PGRES_TUPLES_OK || status == PGRES_SINGLE_TUPLE || static_cast<int>(status) == kStatusTuplesChunk) {
    std::string decode_error;
    object.Set("rows", Napi::Value(env, BuildRows(env, result, columns, decoders, &decode_error)));
    if (!decode_error.empty()) object.Set("decodeError", Napi::String::New(env, decode_error));
  } else {
    object.Set("rows", Napi::Array::New(env, 0));
  }
  if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE) {
    object.Set("error", ErrorFieldsToObject(env, result));
    object.Set("errorMessage", Napi::String::New(env, PQresultErrorMessage(result)));
  }
  return object;
}

}  // namespace pqnode
