// PGresult → the JS result object described by NativeResult in lib/native.ts.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include "decoders.h"

namespace pqnode {

// All rows are built in one pass: one JS array per row, each value decoded by the
// decoder the table names for its column's type.
Napi::Object BuildResult(Napi::Env env, const PGresult* result, const DecoderTable& decoders);

}  // namespace pqnode
