// A libuv poll watcher on the connection's socket.
#pragma once

#include <uv.h>

namespace pqnode {

class SocketWatch {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  SocketWatch(uv_loop_t* loop, void* owner, Callback callback);
  ~SocketWatch();
  SocketWatch(const SocketWatch&) = delete;
  SocketWatch& operator=(const SocketWatch&) = delete;

  // Watch `fd` for `events` (UV_READABLE | UV_WRITABLE); 0 stops watching but keeps the handle.
  // A different fd, or `fresh` (the socket may have been closed and reopened under the same
  // number, as libpq does while it tries hosts), gets a new handle.
  int Watch(int fd, int events, bool fresh = false);
  // Stops watching and releases the handle; always call before libpq closes the socket.
  void Release();
  int events() const { return events_; }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);

  uv_loop_t* loop_;
  void* owner_;
  Callback callback_;
  uv_poll_t* handle_ = nullptr;
  int fd_ = -1;
  int events_ = 0;
};

}  // namespace pqnode
