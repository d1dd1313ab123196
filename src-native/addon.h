// Per-environment state of the addon: one per main thread or worker.
#pragma once

#include <napi.h>

#include <unordered_set>
#include <vector>

namespace pqnode {

class Connection;

struct AddonData {
  Napi::FunctionReference connection_constructor;
  // closed by the environment's cleanup hook when a worker or the process exits
  std::unordered_set<Connection*> live_connections;
  bool shutting_down = false;
  // (rows, a0, ..., an-1) => { rows[rows.length] = [a0, ..., an-1] }, one per column count:
  // a row leaves C++ in one call, V8 builds it as a literal and appends it in compiled code,
  // far faster than setting elements (or rows) one by one through the C API
  std::vector<Napi::FunctionReference> row_constructors;
  // (status, command, rowCount, fields, rows, objectRows) => a result object, and (name,
  // tableOid, ...) => a frozen field: literals of one shape each, built by V8 in one call
  // rather than property by property through the C API, which costs far more than the call
  Napi::FunctionReference result_constructor;
  Napi::FunctionReference field_constructor;
  // (append, status, command, rowCount, fields, objectRows, a0, ..., an-1) => a result whose
  // one row `append` (a row constructor) made: one call out of C++ for the most common result
  // instead of two, one per column count
  std::vector<Napi::FunctionReference> one_row_result_constructors;
  // (result, status, command, rowCount) => void: the end of a result read in chunks
  Napi::FunctionReference result_finisher;
  // fields => (rows, a0, ..., an-1) => void, appending a row object: given by the JS layer,
  // which owns how column names become keys (setObjectRowMaker)
  Napi::FunctionReference object_row_maker;
  static constexpr size_t kMaxRowArguments = 256;

  napi_value RowConstructor(napi_env env, int columns);
  napi_value ResultConstructor(napi_env env);
  napi_value OneRowResultConstructor(napi_env env, int columns);
  napi_value FieldConstructor(napi_env env);
  napi_value ResultFinisher(napi_env env);
};

}  // namespace pqnode
