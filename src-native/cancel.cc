#include "cancel.h"

#include <string>

namespace pqnode {

namespace {

class CancelWorker : public Napi::AsyncWorker {
 public:
  CancelWorker(Napi::Function callback, PGcancel* cancel)
      : Napi::AsyncWorker(callback, "pqnode.cancel"), cancel_(cancel) {}
  ~CancelWorker() override { PQfreeCancel(cancel_); }

  void Execute() override {
    char message[256] = {0};
    if (!PQcancel(cancel_, message, sizeof(message))) SetError(message);
  }

  void OnOK() override { Callback().Call({Env().Null()}); }
  void OnError(const Napi::Error& error) override {
    Callback().Call({Napi::String::New(Env(), error.Message())});
  }

 private:
  PGcancel* cancel_;
};

}  // namespace

void StartCancel(Napi::Env env, PGconn* conn, Napi::Function callback) {
  // PQgetCancel only copies what the cancel request needs; the PGconn may close meanwhile
  PGcancel* cancel = PQgetCancel(conn);
  if (cancel == nullptr) throw Napi::Error::New(env, "cannot cancel: the connection has no cancel key");
  (new CancelWorker(callback, cancel))->Queue();
}

}  // namespace pqnode
