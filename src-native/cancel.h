// Cancelling the running query without blocking the event loop.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

namespace pqnode {

// PQcancel opens a connection of its own and waits for it, so it runs on the thread pool;
// `callback(error | null)` runs on the loop when it is done.
void StartCancel(Napi::Env env, PGconn* conn, Napi::Function callback);

}  // namespace pqnode
