#include "loop_timer.h"

#include "addon.h"

namespace pqnode {

LoopTimer::LoopTimer(AddonData* addon, void* owner, Callback callback)
    : addon_(addon), owner_(owner), callback_(callback) {}

LoopTimer::~LoopTimer() { Release(); }

int LoopTimer::Start(uint64_t timeout_ms) {
  Release();
  // a handle opened now might outlive the teardown's wait for the last close callback
  if (addon_->shutting_down) return UV_ECANCELED;
  auto* handle = new uv_timer_t;
  const int error = uv_timer_init(addon_->loop, handle);
  if (error != 0) {
    delete handle;
    return error;
  }
  addon_->HandleOpened();
  handle->data = this;
  handle_ = handle;
  return uv_timer_start(handle_, OnTimeout, timeout_ms, 0);
}

void LoopTimer::Release() {
  if (handle_ == nullptr) return;
  uv_timer_stop(handle_);
  // freed by the close callback, which may run after this object is gone
  addon_->CloseHandle(handle_);
  handle_ = nullptr;
}

void LoopTimer::OnTimeout(uv_timer_t* handle) {
  // a released handle's data is no longer the timer (libuv calls nothing once it is closing)
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(handle))) return;
  auto* timer = static_cast<LoopTimer*>(handle->data);
  timer->callback_(timer->owner_);
}

}  // namespace pqnode
