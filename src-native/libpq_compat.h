// Declarations of libpq functions newer than the oldest libpq pqnode builds against.
// They are weak: when the linked libpq lacks one, its address is null and the feature
// is reported as not supported instead of failing to load.
//
// A build that links libpq statically (PQNODE_LIBPQ_LINKED_STATICALLY) declares them as
// ordinary functions instead: a weak reference does not make the linker take a member out
// of an archive, and a libpq without them should fail the link, not ship a lesser binary.
#pragma once

#include <libpq-fe.h>

#ifdef PQNODE_LIBPQ_LINKED_STATICALLY
#define PQNODE_NEWER_LIBPQ
#else
#define PQNODE_NEWER_LIBPQ __attribute__((weak))
#endif

extern "C" {
// libpq 17: the non-blocking cancel API
typedef struct pg_cancel_conn PGcancelConn;
PGcancelConn* PQcancelCreate(PGconn* conn) PQNODE_NEWER_LIBPQ;
int PQcancelStart(PGcancelConn* cancelConn) PQNODE_NEWER_LIBPQ;
PostgresPollingStatusType PQcancelPoll(PGcancelConn* cancelConn) PQNODE_NEWER_LIBPQ;
int PQcancelSocket(const PGcancelConn* cancelConn) PQNODE_NEWER_LIBPQ;
char* PQcancelErrorMessage(const PGcancelConn* cancelConn) PQNODE_NEWER_LIBPQ;
void PQcancelFinish(PGcancelConn* cancelConn) PQNODE_NEWER_LIBPQ;

// libpq 17
int PQsendPipelineSync(PGconn* conn) PQNODE_NEWER_LIBPQ;
int PQsetChunkedRowsMode(PGconn* conn, int chunkSize) PQNODE_NEWER_LIBPQ;
PGresult* PQclosePrepared(PGconn* conn, const char* stmt) PQNODE_NEWER_LIBPQ;
int PQsendClosePrepared(PGconn* conn, const char* stmt) PQNODE_NEWER_LIBPQ;
}

namespace pqnode {

// The result status of a chunk of rows (libpq 17's PGRES_TUPLES_CHUNK), by value so that
// older headers compile.
constexpr int kStatusTuplesChunk = 12;

// A weak function the linked libpq lacks has a null address. (Taken through a parameter
// so that the statically linked build, where they cannot be null, compiles without warnings.)
template <typename Function>
inline bool Linked(Function* function) {
  return function != nullptr;
}

inline bool HasCancelCreate() {
  return Linked(PQcancelCreate) && Linked(PQcancelStart) && Linked(PQcancelPoll) &&
         Linked(PQcancelSocket) && Linked(PQcancelErrorMessage) && Linked(PQcancelFinish);
}
inline bool HasSendPipelineSync() { return Linked(PQsendPipelineSync); }
inline bool HasChunkedRows() { return Linked(PQsetChunkedRowsMode); }
inline bool HasClosePrepared() { return Linked(PQclosePrepared) && Linked(PQsendClosePrepared); }

}  // namespace pqnode
