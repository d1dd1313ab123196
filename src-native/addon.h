// Per-environment state of the addon: one per main thread or worker.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <unordered_set>
#include <vector>

namespace pqnode {

class Connection;

struct AddonData {
  uv_loop_t* loop = nullptr;
  Napi::FunctionReference connection_constructor;
  // closed by the environment's teardown when a worker or the process exits, and with
  // them the cancel requests they sent
  std::unordered_set<Connection*> live_connections;
  // the teardown has begun: no JS runs any more, and no handle is to be opened
  bool shutting_down = false;

  // Every libuv handle the addon opens is counted from its uv_*_init until its close callback
  // has run. Those callbacks are code of this addon, which Node unloads as soon as the last
  // environment that loaded it is gone: the teardown ends only when the count is back to zero.
  void HandleOpened() { open_handles++; }
  // Closes `handle` (made with new) and frees it once libuv has run its close callback.
  template <typename Handle>
  void CloseHandle(Handle* handle) {
    handle->data = this;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* closed) {
      auto* addon = static_cast<AddonData*>(closed->data);
      delete reinterpret_cast<Handle*>(closed);
      addon->HandleClosed();
    });
  }
  void HandleClosed();
  // The environment's async cleanup hook, held from Init until the teardown has finished.
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  size_t open_handles = 0;
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

// Whether the environment still runs JS. A worker that is terminated (from another thread, at
// any moment) or that calls process.exit() stops running JS while libuv may still call the
// addon: every Node-API call that would run JS then fails, and node-addon-api throws a
// Napi::Error for it.
bool RunsJs(napi_env env);

// For a Napi::Error caught in a callback from libuv (a JS callback threw, or a Node-API call
// failed): reports it as Node reports an uncaught exception, unless the environment no longer
// runs JS, when nobody is left to tell and reporting would fail in turn. Returns whether the
// environment still runs JS.
bool ReportFromLoop(napi_env env, const Napi::Error& error);

}  // namespace pqnode
