// Registers the addon's classes and functions, once per environment (main thread or worker).
#include <napi.h>

#include "addon.h"
#include "connection.h"
#include "decoders.h"
#include "libpq_compat.h"

namespace pqnode {

// A function compiled from `source` once per environment; null when that fails.
static napi_value CompiledOnce(napi_env env, Napi::FunctionReference& cached, const char* source) {
  if (cached.IsEmpty()) {
    napi_value script, function;
    if (napi_create_string_utf8(env, source, NAPI_AUTO_LENGTH, &script) != napi_ok) return nullptr;
    if (napi_run_script(env, script, &function) != napi_ok) return nullptr;
    cached = Napi::Persistent(Napi::Function(env, function));
  }
  return cached.Value();
}

// The function for `columns` values in `cache`, compiled the first time from the source
// `make_source` gives for the list of their names (",a0,a1,...,an-1"); null past the most
// arguments a row may take.
template <typename MakeSource>
static napi_value CompiledPerColumnCount(napi_env env, std::vector<Napi::FunctionReference>& cache, int columns,
                                         MakeSource make_source) {
  if (columns > static_cast<int>(AddonData::kMaxRowArguments)) return nullptr;
  if (cache.size() <= static_cast<size_t>(columns)) cache.resize(columns + 1);
  Napi::FunctionReference& cached = cache[columns];
  if (!cached.IsEmpty()) return cached.Value();
  std::string names;
  for (int i = 0; i < columns; i++) names += ",a" + std::to_string(i);
  return CompiledOnce(env, cached, make_source(names).c_str());
}

napi_value AddonData::RowConstructor(napi_env env, int columns) {
  return CompiledPerColumnCount(env, row_constructors, columns, [](const std::string& names) {
    // the values are the parameters and the elements of the row (names without its leading comma)
    const std::string elements = names.empty() ? names : names.substr(1);
    return "(function (rows" + names + ") { rows[rows.length] = [" + elements + "]; })";
  });
}

// Every property a result may carry is there from the start: one hidden class for all
// results, however they are built (typecasters is a slot the JS layer fills).
#define PQNODE_RESULT_LITERAL                                                                     \
  "{ status: status, command: command, rowCount: rowCount, fields: fields, rows: rows, "          \
  "objectRows: objectRows, error: undefined, errorMessage: undefined, decodeError: undefined, " \
  "dateStyle: undefined, timeZone: undefined, typecasters: undefined }"

napi_value AddonData::ResultConstructor(napi_env env) {
  return CompiledOnce(env, result_constructor,
                      "(function (status, command, rowCount, fields, rows, objectRows) { return " PQNODE_RESULT_LITERAL
                      "; })");
}

napi_value AddonData::OneRowResultConstructor(napi_env env, int columns) {
  // The row is appended to a scratch array kept by the function and taken back from it: an
  // empty array appended to gets room for 17 elements, a literal of one only what it holds.
  return CompiledPerColumnCount(env, one_row_result_constructors, columns, [](const std::string& names) {
    return "(function () { var scratch = []; return function (append, status, command, rowCount, fields, objectRows" +
           names + ") { append(scratch" + names + "); var rows = [scratch.pop()]; return " PQNODE_RESULT_LITERAL
           "; }; })()";
  });
}

napi_value AddonData::FieldConstructor(napi_env env) {
  // frozen: the results of one statement share their fields
  return CompiledOnce(env, field_constructor,
                      "(function (name, tableOid, columnId, typeOid, typeSize, typeModifier, format) { "
                      "return Object.freeze({ name: name, tableOid: tableOid, columnId: columnId, typeOid: typeOid, "
                      "typeSize: typeSize, typeModifier: typeModifier, format: format }); })");
}

napi_value AddonData::ResultFinisher(napi_env env) {
  return CompiledOnce(env, result_finisher,
                      "(function (result, status, command, rowCount) { result.status = status; "
                      "result.command = command; result.rowCount = rowCount; })");
}

namespace {

Napi::Value LibpqVersion(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), PQlibVersion()); }

Napi::Value HasFeature(const Napi::CallbackInfo& info) {
  const std::string name = info[0].ToString().Utf8Value();
  bool has = false;
  if (name == "pipeline") has = true;
  if (name == "sendPipelineSync") has = HasSendPipelineSync();
  if (name == "chunkedRows") has = HasChunkedRows();
  if (name == "closePrepared") has = HasClosePrepared();
  if (name == "cancelCreate") has = HasCancelCreate();
  return Napi::Boolean::New(info.Env(), has);
}

Napi::Value SetObjectRowMaker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "setObjectRowMaker(function)");
  AddonData* data = env.GetInstanceData<AddonData>();
  data->object_row_maker = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

// The numbers the addon and lib/native.ts exchange, as this build has them: libpq's statuses,
// the decoders, the markers of a batch, what flush() returns. lib/native.ts compares them
// with its own at load, so that a mismatch fails there, by name, and not as wrong results.
Napi::Object Constants(Napi::Env env) {
  auto table = [&env](std::initializer_list<std::pair<const char*, int>> entries) {
    Napi::Object object = Napi::Object::New(env);
    for (const auto& [name, value] : entries) object.Set(name, Napi::Number::New(env, value));
    return object;
  };
  Napi::Object constants = Napi::Object::New(env);
  constants.Set("execStatus", table({
                                  {"EmptyQuery", PGRES_EMPTY_QUERY},
                                  {"CommandOk", PGRES_COMMAND_OK},
                                  {"TuplesOk", PGRES_TUPLES_OK},
                                  {"CopyOut", PGRES_COPY_OUT},
                                  {"CopyIn", PGRES_COPY_IN},
                                  {"BadResponse", PGRES_BAD_RESPONSE},
                                  {"NonfatalError", PGRES_NONFATAL_ERROR},
                                  {"FatalError", PGRES_FATAL_ERROR},
                                  {"CopyBoth", PGRES_COPY_BOTH},
                                  {"SingleTuple", PGRES_SINGLE_TUPLE},
                                  {"PipelineSync", PGRES_PIPELINE_SYNC},
                                  {"PipelineAborted", PGRES_PIPELINE_ABORTED},
                                  {"TuplesChunk", kStatusTuplesChunk},
                              }));
  constants.Set("transactionStatus", table({
                                         {"Idle", PQTRANS_IDLE},
                                         {"Active", PQTRANS_ACTIVE},
                                         {"InTransaction", PQTRANS_INTRANS},
                                         {"InError", PQTRANS_INERROR},
                                         {"Unknown", PQTRANS_UNKNOWN},
                                     }));
  constants.Set("decoder", table({
                               {"Text", static_cast<int>(Decoder::kText)},
                               {"Int", static_cast<int>(Decoder::kInt)},
                               {"Float", static_cast<int>(Decoder::kFloat)},
                               {"Bool", static_cast<int>(Decoder::kBool)},
                               {"BigInt", static_cast<int>(Decoder::kBigInt)},
                               {"Bytea", static_cast<int>(Decoder::kBytea)},
                               {"TimestampTz", static_cast<int>(Decoder::kTimestampTz)},
                               {"Timestamp", static_cast<int>(Decoder::kTimestamp)},
                               {"Date", static_cast<int>(Decoder::kDate)},
                               {"PgTimestampTz", static_cast<int>(Decoder::kPgTimestampTz)},
                           }));
  constants.Set("flushState", table({
                                  {"OutputPending", Connection::kOutputPending},
                                  {"InputWaiting", Connection::kInputWaiting},
                              }));
  constants.Set("decoderFinal", Napi::Number::New(env, DecoderTable::kFinal));
  constants.Set("endOfCommand", Napi::Number::New(env, Connection::kEndOfCommand));
  constants.Set("syncBase", Napi::Number::New(env, Connection::kSyncBase));
  return constants;
}

Napi::Value ParseConninfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string conninfo = info[0].ToString().Utf8Value();
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    throw Napi::Error::New(env, message);
  }
  Napi::Object result = Napi::Object::New(env);
  for (PQconninfoOption* option = options; option->keyword != nullptr; option++) {
    if (option->val != nullptr) result.Set(option->keyword, Napi::String::New(env, option->val));
  }
  PQconninfoFree(options);
  return result;
}

}  // namespace

void AddonData::HandleClosed() {
  open_handles--;
  if (open_handles == 0 && shutting_down && cleanup_hook != nullptr) {
    // the last close callback has run: the environment may go, and the addon with it
    napi_async_cleanup_hook_handle hook = cleanup_hook;
    cleanup_hook = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
}

bool RunsJs(napi_env env) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok) return false;
  // every call would fail for that exception, which is still to be thrown: JS runs
  if (pending) return true;
  // the plainest question: may a function that does nothing be called?
  napi_value global, nothing;
  if (napi_get_global(env, &global) != napi_ok) return false;
  if (napi_create_function(
          env, "nothing", NAPI_AUTO_LENGTH, [](napi_env, napi_callback_info) -> napi_value { return nullptr; },
          nullptr, &nothing) != napi_ok) {
    return false;
  }
  if (napi_call_function(env, global, nothing, 0, nullptr, nullptr) == napi_ok) return true;
  // It failed: Node no longer lets JS run, or V8 is terminating it (worker.terminate() stops
  // the isolate first and tells Node a moment later), which leaves its termination pending.
  napi_value termination;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_get_and_clear_last_exception(env, &termination);
  }
  return false;
}

bool ReportFromLoop(napi_env env, const Napi::Error& error) {
  if (!RunsJs(env)) return false;
  napi_fatal_exception(env, error.Value());
  return true;
}

namespace {

// The environment's end (a worker's, or the main thread's at exit): every connection, and
// every cancel it has under way, is closed without calling into JS (a thread blocked in
// libpq < 17's PQcancel is left to end on its own: see cancel.cc), and the hook reports
// done only once libuv has run the close callback of every handle the addon opened.
// Node-API keeps the environment, and so the addon, until then.
void TearDown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->shutting_down = true;
  auto connections = std::move(data->live_connections);
  data->live_connections.clear();
  for (Connection* connection : connections) connection->Shutdown();
  if (data->open_handles == 0) {
    data->cleanup_hook = nullptr;
    napi_remove_async_cleanup_hook(hook);
  }
  // else the last close callback removes it (HandleClosed)
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  napi_get_uv_event_loop(env, &data->loop);
  data->connection_constructor = Napi::Persistent(Connection::Define(env));
  // node-addon-api's Env::AddCleanupHook is the synchronous kind, which cannot wait for libuv
  if (napi_add_async_cleanup_hook(env, TearDown, data, &data->cleanup_hook) != napi_ok) {
    throw Napi::Error::New(env, "cannot register the environment's cleanup hook");
  }
  exports.Set("Connection", data->connection_constructor.Value());
  exports.Set("libpqVersion", Napi::Function::New<LibpqVersion>(env, "libpqVersion"));
  exports.Set("hasFeature", Napi::Function::New<HasFeature>(env, "hasFeature"));
  exports.Set("parseConninfo", Napi::Function::New<ParseConninfo>(env, "parseConninfo"));
  exports.Set("setObjectRowMaker", Napi::Function::New<SetObjectRowMaker>(env, "setObjectRowMaker"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace pqnode

static Napi::Object InitPqnode(Napi::Env env, Napi::Object exports) { return pqnode::Init(env, exports); }

NODE_API_MODULE(pqnode, InitPqnode)
