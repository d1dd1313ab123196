// PGresult → the JS result object described by NativeResult in lib/native.ts.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <array>
#include <string>
#include <vector>

#include "decoders.h"

namespace pqnode {

// The field lists of the last results built on a connection. A statement run again and
// again describes the same columns each time: its results share one frozen array of fields
// instead of building it anew.
class FieldsCache {
 public:
  struct Column {
    std::string name;
    Oid table;
    int column_id;
    Oid type;
    int size;
    int modifier;
    int format;
  };
  struct Entry {
    std::vector<Column> columns;
    Napi::Reference<Napi::Array> fields;
    // (rows, a0, ..., an-1) => appends a row object keyed by these columns' names
    Napi::FunctionReference object_appender;
    bool object_appender_tried = false;
  };

  // The entry describing the result's columns, made when none does.
  Entry& Lookup(napi_env env, const PGresult* result);
  // The entry's row object appender (made by the JS layer's maker); null when there is none.
  napi_value ObjectAppender(napi_env env, Entry& entry);
  void Clear();

 private:
  static bool Describes(const Entry& entry, const PGresult* result, int columns);

  static constexpr size_t kEntries = 4;
  std::array<Entry, kEntries> entries_;
  size_t next_ = 0;
};

// All rows are built in one pass, each value decoded by the decoder the table names for its
// column's type: one JS array per row, or, when `object_rows` is asked for and every value is
// final, one object per row keyed by column name (the result's objectRows says which).
Napi::Object BuildResult(Napi::Env env, const PGresult* result, const DecoderTable& decoders, FieldsCache& fields,
                         bool object_rows);

// Single-row mode gives one PGresult per row: the rows of the next one are appended to the
// result built from the first, so that JS gets the rows read in one pass as one batch.
void AppendRows(Napi::Env env, Napi::Object target, const PGresult* result, const DecoderTable& decoders);

}  // namespace pqnode
