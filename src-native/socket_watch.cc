#include "socket_watch.h"

#ifndef _WIN32
#include <poll.h>
#endif

#include "addon.h"

namespace pqnode {

SocketWatch::SocketWatch(AddonData* addon, void* owner, Callback callback)
    : addon_(addon), owner_(owner), callback_(callback) {}

SocketWatch::~SocketWatch() { Release(); }

namespace {

int InitPoll(uv_loop_t* loop, uv_poll_t* handle, int fd) {
#ifdef _WIN32
  // libpq's socket is a Winsock SOCKET there (PQsocket casts it to int), not a CRT descriptor
  return uv_poll_init_socket(loop, handle, static_cast<uv_os_sock_t>(fd));
#else
  return uv_poll_init(loop, handle, fd);
#endif
}

}  // namespace

int SocketWatch::Watch(int fd, int events, bool fresh) {
  if (handle_ != nullptr && (fresh || fd != fd_)) Release();
  if (handle_ == nullptr) {
    if (events == 0) return 0;
    // a handle opened now might outlive the teardown's wait for the last close callback
    if (addon_->shutting_down) return UV_ECANCELED;
    handle_ = new uv_poll_t;
    const int error = InitPoll(addon_->loop, handle_, fd);
    if (error != 0) {
      delete handle_;
      handle_ = nullptr;
      return error;
    }
    addon_->HandleOpened();
    handle_->data = this;
    fd_ = fd;
    events_ = 0;
  }
  if (events == events_) return 0;
  events_ = events;
  if (events == 0) return uv_poll_stop(handle_);
  return uv_poll_start(handle_, events, OnPoll);
}

int SocketWatch::WatchSocket(int fd, int events) { return Watch(fd, events, !SameSocket(fd)); }

bool SocketWatch::SameSocket(int fd) {
#ifdef _WIN32
  // a Winsock SOCKET has no fstat: a new handle each time, as always
  (void)fd;
  return false;
#else
  // libuv's fstat (synchronous without a loop), not glibc's: glibc 2.33 made fstat a symbol
  // of its own version, which the prebuilt binary may not ask for (it loads on glibc 2.28)
  uv_fs_t request;
  const int failed = uv_fs_fstat(nullptr, &request, fd, nullptr);
  const auto device = static_cast<unsigned long long>(request.statbuf.st_dev);
  const auto inode = static_cast<unsigned long long>(request.statbuf.st_ino);
  uv_fs_req_cleanup(&request);
  if (failed != 0) {
    identity_known_ = false;
    return false;
  }
  const bool same = handle_ != nullptr && fd == fd_ && identity_known_ && device == device_ && inode == inode_;
  identity_known_ = true;
  device_ = device;
  inode_ = inode;
  return same;
#endif
}

bool SocketWatch::WritableNow(int fd) {
#ifdef _WIN32
  (void)fd;
  return false;
#else
  pollfd entry = {fd, POLLOUT, 0};
  // an error or hang-up counts as ready, as for libpq's own waits: the next step reports it
  return poll(&entry, 1, 0) == 1 && (entry.revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
#endif
}

void SocketWatch::Stop() {
  if (handle_ == nullptr || events_ == 0) return;
  uv_poll_stop(handle_);
  events_ = 0;
}

void SocketWatch::Release() {
  if (handle_ == nullptr) return;
  // closing stops the handle (a uv_poll_stop before it would ask the kernel to forget the
  // socket twice); freed by the close callback, which may run after this object is gone
  addon_->CloseHandle(handle_);
  handle_ = nullptr;
  fd_ = -1;
  events_ = 0;
}

void SocketWatch::OnPoll(uv_poll_t* handle, int status, int events) {
  // a released handle's data is no longer the watch (libuv calls nothing once it is closing)
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(handle))) return;
  auto* watch = static_cast<SocketWatch*>(handle->data);
  watch->callback_(watch->owner_, status, events);
}

}  // namespace pqnode
