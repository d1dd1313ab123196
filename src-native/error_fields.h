// The diagnostic fields of an error or notice result, as a JS object.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <string>
#include <utility>
#include <vector>

namespace pqnode {

// (field code, value) pairs copied out of a PGresult, so that a notice can be kept
// until it is safe to call into JS.
using ErrorFieldList = std::vector<std::pair<int, std::string>>;

ErrorFieldList CopyErrorFields(const PGresult* result);
Napi::Object ErrorFieldsToObject(Napi::Env env, const ErrorFieldList& fields);
Napi::Object ErrorFieldsToObject(Napi::Env env, const PGresult* result);

}  // namespace pqnode
