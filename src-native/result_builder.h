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
// `end`, when given, is the rowless PGresult that followed `result`, a chunk holding all the
// rows: the status, command tag and count are taken from it. `conn` is the connection the
// result came from, asked for the session's DateStyle and TimeZone when the rows need them.
Napi::Object BuildResult(Napi::Env env, const PGconn* conn, const PGresult* result, const DecoderTable& decoders,
                         FieldsCache& fields, bool object_rows, const PGresult* end = nullptr);

// Single-row and chunked modes give one PGresult per row or chunk: the rows of the next one
// are appended to the result built from the first (as objects when its rows are objects).
void AppendRows(Napi::Env env, const PGconn* conn, Napi::Object target, const PGresult* result,
                const DecoderTable& decoders, FieldsCache& fields);

// A command tag ("SELECT 5") and the count in it (-1 for none).
struct CommandTag {
  std::string command;
  double row_count;
};
bool HasCommandTag(const PGresult* result);
CommandTag CommandTagOf(const PGresult* result);

// The end of a result read in chunks: `target` takes the status of `result`, the rowless
// PGresult libpq gives after the last chunk, and `tag`. (The server's CommandComplete goes
// to the chunk being filled when it arrives, so the tag may have come with the last chunk.)
void FinishMergedResult(Napi::Env env, Napi::Object target, const PGresult* result, const CommandTag& tag);

}  // namespace pqnode
