#include "socket_watch.h"

namespace pqnode {

SocketWatch::SocketWatch(uv_loop_t* loop, void* owner, Callback callback)
    : loop_(loop), owner_(owner), callback_(callback) {}

SocketWatch::~SocketWatch() { Release(); }

int SocketWatch::Watch(int fd, int events, bool fresh) {
  if (handle_ != nullptr && (fresh || fd != fd_)) Release();
  if (handle_ == nullptr) {
    if (events == 0) return 0;
    handle_ = new uv_poll_t;
    const int error = uv_poll_init(loop_, handle_, fd);
    if (error != 0) {
      delete handle_;
      handle_ = nullptr;
      return error;
    }
    handle_->data = this;
    fd_ = fd;
    events_ = 0;
  }
  if (events == events_) return 0;
  events_ = events;
  if (events == 0) return uv_poll_stop(handle_);
  return uv_poll_start(handle_, events, OnPoll);
}

void SocketWatch::Release() {
  if (handle_ == nullptr) return;
  uv_poll_stop(handle_);
  handle_->data = nullptr;
  // the handle is freed by libuv's close callback, which may run after this object is gone
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  handle_ = nullptr;
  fd_ = -1;
  events_ = 0;
}

void SocketWatch::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* watch = static_cast<SocketWatch*>(handle->data);
  if (watch == nullptr) return;
  watch->callback_(watch->owner_, status, events);
}

}  // namespace pqnode
