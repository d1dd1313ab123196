// Cancelling the running query without blocking the event loop, each attempt bounded in time.
#pragma once

#include <libpq-fe.h>
#include <napi.h>

#include <cstdint>
#include <unordered_set>

namespace pqnode {

class CancelAttempt;

// The cancel requests one connection has under way. Closing the connection abandons them.
class CancelRequests {
 public:
  CancelRequests() = default;
  ~CancelRequests() { AbandonAll(); }
  CancelRequests(const CancelRequests&) = delete;
  CancelRequests& operator=(const CancelRequests&) = delete;

  // Sends a cancel request for `conn`'s running statement. `callback(error | null)` runs once
  // on the loop: null when the server took the request, else why not, at the latest
  // `timeout_ms` from now; then nothing of the attempt holds the loop, or a thread of its
  // pool. Throws (and never calls back) when the attempt cannot begin.
  void Start(Napi::Env env, PGconn* conn, Napi::Function callback, uint64_t timeout_ms);
  // Every attempt under way lets go of what it holds, calling no JS: their callbacks never run.
  void AbandonAll();

 private:
  friend class CancelAttempt;
  std::unordered_set<CancelAttempt*> attempts_;
};

}  // namespace pqnode
