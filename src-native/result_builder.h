// PGresult → the JS result object described by NativeResult in lib/native.ts.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include "decoders.h"

namespace pqnode {

// All rows are built in one pass: one JS array per row, each value decoded by the
// decoder the table names for its column's type.
Napi::Object BuildResult(Napi::Env env, const PGresult* result, const DecoderTable& decoders);

// Single-row mode gives one PGresult per row: the rows of the next one are appended to the
// result built from the first, so that JS gets the rows read in one pass as one batch.
void AppendRows(Napi::Env env, Napi::Object target, const PGresult* result, const DecoderTable& decoders);

}  // namespace pqnode
