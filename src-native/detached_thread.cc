#include "detached_thread.h"

#include <atomic>

#ifdef _WIN32
#include <windows.h>

#include <system_error>
#include <thread>
#else
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

#include <cstring>
#endif

namespace pqnode {

namespace {

// Node unloads an addon when the last environment that loaded it is gone (a worker that
// alone used it, ending). A thread still blocked in libpq then would, once it returns, run
// code that is no longer there. Pinned once, the addon stays for the rest of the process;
// loading it again (a new worker) finds it in place, as it finds it while the main thread
// holds it.
bool PinAddon(std::string* error) {
  static std::atomic<bool> pinned{false};
  if (pinned.load()) return true;
#ifdef _WIN32
  HMODULE module = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                          reinterpret_cast<LPCWSTR>(&PinAddon), &module)) {
    *error = "cannot keep the addon loaded (GetModuleHandleEx failed)";
    return false;
  }
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinAddon), &info) == 0 || info.dli_fname == nullptr) {
    *error = "cannot keep the addon loaded: dladdr does not know it";
    return false;
  }
  // RTLD_NOLOAD: the library already loaded, never another copy; RTLD_NODELETE: never
  // unloaded, nor the libraries it needs. The handle is never closed.
  if (dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE) == nullptr) {
    const char* reason = dlerror();
    *error = std::string("cannot keep the addon loaded: ") + (reason != nullptr ? reason : "dlopen failed");
    return false;
  }
#endif
  pinned.store(true);
  return true;
}

#ifndef _WIN32
struct ThreadStart {
  void (*run)(void*);
  void* argument;
};

void* RunThread(void* raw) {
  const ThreadStart start = *static_cast<ThreadStart*>(raw);
  delete static_cast<ThreadStart*>(raw);
  start.run(start.argument);
  return nullptr;
}
#endif

}  // namespace

bool StartDetachedThread(void (*run)(void* argument), void* argument, std::string* error) {
  if (!PinAddon(error)) return false;
#ifdef _WIN32
  try {
    std::thread(run, argument).detach();
  } catch (const std::system_error& failure) {
    *error = std::string("cannot start a thread: ") + failure.what();
    return false;
  }
  return true;
#else
  pthread_attr_t attributes;
  if (pthread_attr_init(&attributes) != 0) {
    *error = "cannot start a thread: pthread_attr_init failed";
    return false;
  }
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  auto* start = new ThreadStart{run, argument};
  // the thread starts with every signal blocked: they are for Node's threads to handle
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  pthread_t thread;
  const int failed = pthread_create(&thread, &attributes, RunThread, start);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attributes);
  if (failed != 0) {
    delete start;
    *error = std::string("cannot start a thread: ") + std::strerror(failed);
    return false;
  }
  return true;
#endif
}

}  // namespace pqnode
