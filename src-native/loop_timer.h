// A one-shot libuv timer that owns its handle, counted like every handle of the addon.
#pragma once

#include <uv.h>

#include <cstdint>

namespace pqnode {

struct AddonData;

class LoopTimer {
 public:
  using Callback = void (*)(void* owner);

  // `addon` counts the handle while it is open: see AddonData::HandleOpened.
  LoopTimer(AddonData* addon, void* owner, Callback callback);
  ~LoopTimer();
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  // Calls back once, `timeout_ms` from now (a libuv error otherwise). Once the environment's
  // teardown has begun no handle is opened: UV_ECANCELED.
  int Start(uint64_t timeout_ms);
  // Stops the clock and releases the handle; the callback no longer runs.
  void Release();

 private:
  static void OnTimeout(uv_timer_t* handle);

  AddonData* addon_;
  void* owner_;
  Callback callback_;
  uv_timer_t* handle_ = nullptr;
};

}  // namespace pqnode
