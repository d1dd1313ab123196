// Per-environment state of the addon: one per main thread or worker.
#pragma once

#include <napi.h>

#include <unordered_set>

namespace pqnode {

class Connection;

struct AddonData {
  Napi::FunctionReference connection_constructor;
  // closed by the environment's cleanup hook when a worker or the process exits
  std::unordered_set<Connection*> live_connections;
  bool shutting_down = false;
};

}  // namespace pqnode
