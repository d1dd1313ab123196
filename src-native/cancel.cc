#include "cancel.h"

#include <uv.h>

#include <string>

#include "addon.h"
#include "libpq_compat.h"
#include "socket_watch.h"

namespace pqnode {

namespace {

// libpq < 17: PQcancel opens a connection of its own and waits for it, so it runs on the
// thread pool. It needs nothing of the connection, which may close meanwhile: PQgetCancel
// copied what the request takes.
class BlockingCancel : public Napi::AsyncWorker {
 public:
  BlockingCancel(Napi::Function callback, PGcancel* cancel)
      : Napi::AsyncWorker(callback, "pqnode.cancel"), cancel_(cancel) {}
  ~BlockingCancel() override { PQfreeCancel(cancel_); }

  void Execute() override {
    char message[256] = {0};
    if (!PQcancel(cancel_, message, sizeof(message))) SetError(message);
  }

  // Node completes the work before the environment goes, also one whose teardown has begun
  // (a worker ending) where no JS runs: then the callback is dropped and the work freed.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status == napi_ok && !RunsJs(env)) {
      Destroy();
      return;
    }
    Napi::AsyncWorker::OnWorkComplete(env, status);
  }

  void OnOK() override { Callback().Call({Env().Null()}); }
  void OnError(const Napi::Error& error) override { Callback().Call({Napi::String::New(Env(), error.Message())}); }

 private:
  PGcancel* cancel_;
};

// libpq >= 17: PQcancelStart/PQcancelPoll, driven by the event loop like a connect.
// The object owns itself and goes away once the callback has run, or when the environment's
// teardown abandons it.
class PolledCancel final : public Abandonable {
 public:
  static void Start(Napi::Env env, PGconn* conn, Napi::Function callback) {
    PGcancelConn* cancel = PQcancelCreate(conn);
    if (cancel == nullptr) throw Napi::Error::New(env, "out of memory");
    auto* self = new PolledCancel(env, cancel, callback);
    if (!PQcancelStart(cancel)) {
      self->Finish(PQcancelErrorMessage(cancel));
      return;
    }
    self->Wait(PGRES_POLLING_WRITING);
  }

  void Abandon() override { delete this; }

 private:
  PolledCancel(Napi::Env env, PGcancelConn* cancel, Napi::Function callback)
      : env_(env),
        addon_(env.GetInstanceData<AddonData>()),
        cancel_(cancel),
        callback_(Napi::Persistent(callback)),
        context_(env, "pqnode.cancel"),
        watch_(addon_, this, &PolledCancel::OnSocketEvent) {
    addon_->abandonable.insert(this);
  }

  ~PolledCancel() {
    addon_->abandonable.erase(this);
    watch_.Release();
    PQcancelFinish(cancel_);
  }

  void Wait(PostgresPollingStatusType status) {
    const int events = status == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE;
    const int error = watch_.Watch(PQcancelSocket(cancel_), events, true);
    if (error != 0) Finish(uv_strerror(error));
  }

  static void OnSocketEvent(void* owner, int status, int events) {
    auto* self = static_cast<PolledCancel*>(owner);
    Napi::HandleScope scope(self->env_);
    if (status < 0) {
      self->Finish(uv_strerror(status));
      return;
    }
    switch (PQcancelPoll(self->cancel_)) {
      case PGRES_POLLING_OK:
        self->Finish(nullptr);
        break;
      case PGRES_POLLING_READING:
        self->Wait(PGRES_POLLING_READING);
        break;
      case PGRES_POLLING_WRITING:
        self->Wait(PGRES_POLLING_WRITING);
        break;
      default:
        self->Finish(PQcancelErrorMessage(self->cancel_));
        break;
    }
  }

  // Calls back and goes away. Nothing may throw out of here: it runs under a libuv callback.
  void Finish(const char* error) {
    Napi::Env env = env_;
    watch_.Release();
    try {
      Napi::FunctionReference callback = std::move(callback_);
      Napi::Value argument = error == nullptr ? env.Null() : Napi::String::New(env, error);
      callback.MakeCallback(env.Global(), {argument}, context_);
    } catch (const Napi::Error& thrown) {
      // the callback threw, or the worker is ending and JS no longer runs
      ReportFromLoop(env, thrown);
    }
    delete this;
  }

  Napi::Env env_;
  AddonData* addon_;
  PGcancelConn* cancel_;
  Napi::FunctionReference callback_;
  Napi::AsyncContext context_;
  SocketWatch watch_;
};

}  // namespace

void StartCancel(Napi::Env env, PGconn* conn, Napi::Function callback) {
  if (HasCancelCreate()) {
    PolledCancel::Start(env, conn, callback);
    return;
  }
  // PQgetCancel only copies what the cancel request needs; the PGconn may close meanwhile
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) throw Napi::Error::New(env, "cannot cancel: the connection has no cancel key");
  (new BlockingCancel(callback, cancel))->Queue();
}

}  // namespace pqnode
