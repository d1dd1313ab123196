// A libuv poll watcher on the connection's socket.
#pragma once

#include <uv.h>

namespace pqnode {

struct AddonData;

class SocketWatch {
 public:
  using Callback = void (*)(void* owner, int status, int events);

  // `addon` counts the handle while it is open: see AddonData::HandleOpened.
  SocketWatch(AddonData* addon, void* owner, Callback callback);
  ~SocketWatch();
  SocketWatch(const SocketWatch&) = delete;
  SocketWatch& operator=(const SocketWatch&) = delete;

  // Watch `fd` for `events` (UV_READABLE | UV_WRITABLE); 0 stops watching but keeps the handle.
  // A different fd, or `fresh` (the socket may have been closed and reopened under the same
  // number, as libpq does while it tries hosts), gets a new handle. Once the environment's
  // teardown has begun no handle is opened: UV_ECANCELED.
  int Watch(int fd, int events, bool fresh = false);
  // Watch(), with a new handle only when `fd` is not the socket watched so far: while libpq
  // connects, each step may wait on the same socket or on a new one under the same number.
  // Keeping the handle saves the steps' handle setups and teardowns (about six epoll_ctl,
  // ioctl and close calls each).
  int WatchSocket(int fd, int events);
  // Stops watching, keeping the handle.
  void Stop();
  // Whether `fd` can be written to now (or has an error to report), asked without waiting
  // and without the event loop. Always false where the platform has no poll().
  static bool WritableNow(int fd);
  // Stops watching and releases the handle; always call before libpq closes the socket.
  void Release();
  int events() const { return events_; }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Whether `fd` is the socket the handle watches; remembers its identity either way.
  bool SameSocket(int fd);

  AddonData* addon_;
  void* owner_;
  Callback callback_;
  uv_poll_t* handle_ = nullptr;
  int fd_ = -1;
  int events_ = 0;
  // the watched socket's identity (device and inode), which a socket reopened under the same
  // number does not share
  bool identity_known_ = false;
  unsigned long long device_ = 0;
  unsigned long long inode_ = 0;
};

}  // namespace pqnode
