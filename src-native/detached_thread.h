// A thread of the addon's own that nobody joins, for a call that may block for as long as
// the network wants (libpq < 17's PQcancel): it must not hold a thread of libuv's pool, nor
// keep the process or a worker from ending.
#pragma once

#include <string>

namespace pqnode {

// Runs `run(argument)` on a new detached thread. The thread may outlive the environment that
// started it, and that environment may be the last to have loaded the addon: the addon (and
// the libpq it links) is first made to stay loaded for the rest of the process, so that the
// thread never returns into unmapped code. False, with `error` set, when either fails.
bool StartDetachedThread(void (*run)(void* argument), void* argument, std::string* error);

}  // namespace pqnode
