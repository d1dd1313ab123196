// Registers the addon's classes and functions, once per environment (main thread or worker).
#include <napi.h>

#include "addon.h"
#include "connection.h"
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  data->connection_constructor = Napi::Persistent(Connection::Define(env));
  // Close every connection still open when this environment (e.g. a worker) goes away.
  env.AddCleanupHook([data]() {
    data->shutting_down = true;
    auto connections = data->live_connections;
    data->live_connections.clear();
    for (Connection* connection : connections) connection->Shutdown();
  });
  exports.Set("Connection", data->connection_constructor.Value());
  exports.Set("libpqVersion", Napi::Function::New<LibpqVersion>(env, "libpqVersion"));
  exports.Set("hasFeature", Napi::Function::New<HasFeature>(env, "hasFeature"));
  exports.Set("parseConninfo", Napi::Function::New<ParseConninfo>(env, "parseConninfo"));
  exports.Set("setObjectRowMaker", Napi::Function::New<SetObjectRowMaker>(env, "setObjectRowMaker"));
  return exports;
}

}  // namespace pqnode

static Napi::Object InitPqnode(Napi::Env env, Napi::Object exports) { return pqnode::Init(env, exports); }

NODE_API_MODULE(pqnode, InitPqnode)
