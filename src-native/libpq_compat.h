// Declarations of libpq functions newer than the oldest libpq pqnode builds against.
// They are weak: when the linked libpq lacks one, its address is null and the feature
// is reported as not supported instead of failing to load.
#pragma once

#include <libpq-fe.h>

extern "C" {
// libpq 17: the non-blocking cancel API
typedef struct pg_cancel_conn PGcancelConn;
PGcancelConn* PQcancelCreate(PGconn* conn) __attribute__((weak));
int PQcancelStart(PGcancelConn* cancelConn) __attribute__((weak));
PostgresPollingStatusType PQcancelPoll(PGcancelConn* cancelConn) __attribute__((weak));
int PQcancelSocket(const PGcancelConn* cancelConn) __attribute__((weak));
char* PQcancelErrorMessage(const PGcancelConn* cancelConn) __attribute__((weak));
void PQcancelFinish(PGcancelConn* cancelConn) __attribute__((weak));

// libpq 17
int PQsendPipelineSync(PGconn* conn) __attribute__((weak));
int PQsetChunkedRowsMode(PGconn* conn, int chunkSize) __attribute__((weak));
PGresult* PQclosePrepared(PGconn* conn, const char* stmt) __attribute__((weak));
int PQsendClosePrepared(PGconn* conn, const char* stmt) __attribute__((weak));
}

namespace pqnode {

// The result status of a chunk of rows (libpq 17's PGRES_TUPLES_CHUNK), by value so that
// older headers compile.
constexpr int kStatusTuplesChunk = 12;

inline bool HasCancelCreate() {
  return PQcancelCreate != nullptr && PQcancelStart != nullptr && PQcancelPoll != nullptr &&
         PQcancelSocket != nullptr && PQcancelErrorMessage != nullptr && PQcancelFinish != nullptr;
}
inline bool HasSendPipelineSync() { return PQsendPipelineSync != nullptr; }
inline bool HasChunkedRows() { return PQsetChunkedRowsMode != nullptr; }
inline bool HasClosePrepared() { return PQclosePrepared != nullptr && PQsendClosePrepared != nullptr; }

}  // namespace pqnode
