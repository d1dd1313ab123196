#include "cancel.h"

#include <uv.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "addon.h"
#include "detached_thread.h"
#include "libpq_compat.h"
#include "loop_timer.h"
#include "socket_watch.h"

namespace pqnode {

// One cancel request under way: the caller's callback, and the clock that bounds the wait.
// It owns itself and goes away once it has called back, or when it is abandoned: never both.
class CancelAttempt {
 public:
  CancelAttempt(const CancelAttempt&) = delete;
  CancelAttempt& operator=(const CancelAttempt&) = delete;

  // Lets go of everything at once, calling no JS.
  void Abandon() { delete this; }

 protected:
  CancelAttempt(Napi::Env env, CancelRequests* owner, Napi::Function callback)
      : env_(env),
        addon_(env.GetInstanceData<AddonData>()),
        owner_(owner),
        callback_(Napi::Persistent(callback)),
        context_(std::make_unique<Napi::AsyncContext>(env, "pqnode.cancel")),
        clock_(addon_, this, &CancelAttempt::OnTimeout) {
    owner_->attempts_.insert(this);
  }

  virtual ~CancelAttempt() { owner_->attempts_.erase(this); }

  // The attempt ends `timeout_ms` from now at the latest. Throws when the clock cannot start.
  void StartClock(uint64_t timeout_ms) {
    timeout_ms_ = timeout_ms;
    const int error = clock_.Start(timeout_ms);
    if (error != 0) throw Napi::Error::New(env_, std::string("cannot time the cancel request: ") + uv_strerror(error));
  }

  // Goes away, then calls back: with null when `error` is, else with `error`. Nothing may
  // throw out of here: it runs under a libuv callback.
  void Finish(const char* error) {
    Napi::Env env = env_;
    const bool failed = error != nullptr;
    const std::string message = failed ? error : "";
    Napi::FunctionReference callback = std::move(callback_);
    std::unique_ptr<Napi::AsyncContext> context = std::move(context_);
    // Every handle is let go, and the attempt leaves its connection's list, before any JS
    // runs: the callback may close the connection, or send another cancel.
    delete this;
    Napi::HandleScope scope(env);
    try {
      Napi::Value argument = failed ? Napi::Value(Napi::String::New(env, message)) : env.Null();
      callback.MakeCallback(env.Global(), {argument}, *context);
    } catch (const Napi::Error& thrown) {
      // the callback threw, or the worker is ending and JS no longer runs
      ReportFromLoop(env, thrown);
    }
  }

  Napi::Env env_;
  AddonData* addon_;

 private:
  static void OnTimeout(void* owner) {
    auto* self = static_cast<CancelAttempt*>(owner);
    const std::string message = "no answer from the server within " + std::to_string(self->timeout_ms_) + " ms";
    self->Finish(message.c_str());
  }

  CancelRequests* owner_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  LoopTimer clock_;
  uint64_t timeout_ms_ = 0;
};

namespace {

// libpq >= 17: PQcancelStart/PQcancelPoll, driven by the event loop like a connect. Given
// up on, it closes its socket: nothing of it is left.
class PolledCancel final : public CancelAttempt {
 public:
  static void Start(Napi::Env env, CancelRequests* owner, PGconn* conn, Napi::Function callback,
                    uint64_t timeout_ms) {
    PGcancelConn* cancel = PQcancelCreate(conn);
    if (cancel == nullptr) throw Napi::Error::New(env, "out of memory");
    auto* self = new PolledCancel(env, owner, cancel, callback);
    try {
      self->StartClock(timeout_ms);
      if (!PQcancelStart(cancel)) throw Napi::Error::New(env, PQcancelErrorMessage(cancel));
      const int error = self->Wait(PGRES_POLLING_WRITING);
      if (error != 0) throw Napi::Error::New(env, std::string("cannot watch the socket: ") + uv_strerror(error));
    } catch (...) {
      self->Abandon();
      throw;
    }
  }

 private:
  PolledCancel(Napi::Env env, CancelRequests* owner, PGcancelConn* cancel, Napi::Function callback)
      : CancelAttempt(env, owner, callback), cancel_(cancel), watch_(addon_, this, &PolledCancel::OnSocketEvent) {}

  ~PolledCancel() override {
    // before libpq closes the socket
    watch_.Release();
    PQcancelFinish(cancel_);
  }

  int Wait(PostgresPollingStatusType status) {
    const int events = status == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE;
    return watch_.WatchSocket(PQcancelSocket(cancel_), events);
  }

  static void OnSocketEvent(void* owner, int status, int events) {
    auto* self = static_cast<PolledCancel*>(owner);
    if (status < 0) {
      self->Finish(uv_strerror(status));
      return;
    }
    const PostgresPollingStatusType polled = PQcancelPoll(self->cancel_);
    switch (polled) {
      case PGRES_POLLING_OK:
        self->Finish(nullptr);
        return;
      case PGRES_POLLING_READING:
      case PGRES_POLLING_WRITING: {
        const int error = self->Wait(polled);
        if (error != 0) self->Finish(uv_strerror(error));
        return;
      }
      default:
        self->Finish(PQcancelErrorMessage(self->cancel_));
        return;
    }
  }

  PGcancelConn* cancel_;
  SocketWatch watch_;
};

// libpq < 17: PQcancel connects, sends the request and waits for the server to close the
// connection, with no timeout: on a network that stopped answering it never returns. It runs
// on a thread of its own rather than libuv's pool, four of whose threads would otherwise be
// enough to stall every fs, dns, crypto and zlib call of the process. The loop waits for it
// no longer than the attempt's timeout; the thread, when it returns at last, finds that
// nobody waits and frees what it holds, touching neither the loop nor the environment
// (which may be long gone, with the worker that started it).
//
// Threads still blocked count against kMaxCancelThreads, process-wide: past it, cancel()
// fails at once rather than pile up threads for a network that does not answer.
constexpr int kMaxCancelThreads = 64;
std::atomic<int> cancel_threads{0};

// What the thread and the loop share. The last of the two to let go frees it, and the
// PGcancel with it: the thread, when the loop stopped waiting before PQcancel returned.
struct BlockingCancelState {
  explicit BlockingCancelState(PGcancel* request) : request(request) {}
  ~BlockingCancelState() { PQfreeCancel(request); }
  BlockingCancelState(const BlockingCancelState&) = delete;
  BlockingCancelState& operator=(const BlockingCancelState&) = delete;

  // PQgetCancel's copy of what the request needs: the connection may close meanwhile
  PGcancel* const request;
  std::mutex mutex;
  // Under the mutex. Once the loop has abandoned the attempt, the thread touches nothing of it.
  bool abandoned = false;
  // signalled by the thread when the answer is in, unless abandoned
  uv_async_t* wake = nullptr;
  bool taken = false;
  std::string error;
};

void RunBlockingCancel(void* argument) {
  using Held = std::shared_ptr<BlockingCancelState>;
  std::unique_ptr<Held> held(static_cast<Held*>(argument));
  BlockingCancelState& state = **held;
  char message[256] = {0};
  const bool taken = PQcancel(state.request, message, sizeof(message)) == 1;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.abandoned) {
      state.taken = taken;
      state.error = message[0] != '\0' ? message : "the cancel request failed";
      uv_async_send(state.wake);
    }
  }
  held.reset();
  cancel_threads--;
}

class BlockingCancel final : public CancelAttempt {
 public:
  static void Start(Napi::Env env, CancelRequests* owner, PGconn* conn, Napi::Function callback,
                    uint64_t timeout_ms) {
    if (cancel_threads.load() >= kMaxCancelThreads) throw TooManyThreads(env);
    PGcancel* request = PQgetCancel(conn);
    if (request == nullptr) throw Napi::Error::New(env, "cannot cancel: the connection has no cancel key");
    auto* self = new BlockingCancel(env, owner, callback, std::make_shared<BlockingCancelState>(request));
    try {
      self->StartClock(timeout_ms);
      self->OpenWake();
      self->StartThread();
    } catch (...) {
      self->Abandon();
      throw;
    }
  }

 private:
  BlockingCancel(Napi::Env env, CancelRequests* owner, Napi::Function callback,
                 std::shared_ptr<BlockingCancelState> state)
      : CancelAttempt(env, owner, callback), state_(std::move(state)) {}

  ~BlockingCancel() override {
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->abandoned = true;
      state_->wake = nullptr;
    }
    // the thread no longer signals it: it may close
    if (wake_ != nullptr) addon_->CloseHandle(wake_);
  }

  static Napi::Error TooManyThreads(Napi::Env env) {
    return Napi::Error::New(env, "cannot cancel: " + std::to_string(kMaxCancelThreads) +
                                     " cancel requests are still waiting for a server to answer" +
                                     " (is the network down?)");
  }

  void OpenWake() {
    if (addon_->shutting_down) throw Napi::Error::New(env_, "cannot cancel: the environment is ending");
    auto* wake = new uv_async_t;
    const int error = uv_async_init(addon_->loop, wake, &BlockingCancel::OnWake);
    if (error != 0) {
      delete wake;
      throw Napi::Error::New(env_, std::string("cannot cancel: ") + uv_strerror(error));
    }
    addon_->HandleOpened();
    wake->data = this;
    wake_ = wake;
    // the thread is not started yet: no lock needed
    state_->wake = wake;
  }

  void StartThread() {
    if (cancel_threads.fetch_add(1) >= kMaxCancelThreads) {
      cancel_threads--;
      throw TooManyThreads(env_);
    }
    auto* held = new std::shared_ptr<BlockingCancelState>(state_);
    std::string error;
    if (!StartDetachedThread(&RunBlockingCancel, held, &error)) {
      delete held;
      cancel_threads--;
      throw Napi::Error::New(env_, "cannot cancel: " + error);
    }
  }

  static void OnWake(uv_async_t* handle) {
    // a closed handle's data is no longer the attempt (libuv calls nothing once it is closing)
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(handle))) return;
    auto* self = static_cast<BlockingCancel*>(handle->data);
    bool taken;
    std::string error;
    {
      std::lock_guard<std::mutex> lock(self->state_->mutex);
      taken = self->state_->taken;
      error = self->state_->error;
    }
    self->Finish(taken ? nullptr : error.c_str());
  }

  std::shared_ptr<BlockingCancelState> state_;
  uv_async_t* wake_ = nullptr;
};

}  // namespace

void CancelRequests::Start(Napi::Env env, PGconn* conn, Napi::Function callback, uint64_t timeout_ms) {
  if (HasCancelCreate()) {
    PolledCancel::Start(env, this, conn, callback, timeout_ms);
  } else {
    BlockingCancel::Start(env, this, conn, callback, timeout_ms);
  }
}

void CancelRequests::AbandonAll() {
  std::unordered_set<CancelAttempt*> attempts = std::move(attempts_);
  attempts_.clear();
  for (CancelAttempt* attempt : attempts) attempt->Abandon();
}

}  // namespace pqnode
