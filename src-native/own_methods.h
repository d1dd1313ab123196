// Methods called once per statement, given to each object as functions of its own that
// carry the C++ object in their data. node-addon-api's instance methods find the object
// with napi_unwrap on every call: a private-property lookup that costs more than the rest
// of a call into C++ (about 790 of 1,200 instructions for a connection's flush()).
#pragma once

#include <napi.h>

#include <cstddef>

namespace pqnode {

template <typename T>
class OwnMethods {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);

  explicit OwnMethods(T* object) : target_(new Target{object, 1}) {}
  OwnMethods(const OwnMethods&) = delete;
  OwnMethods& operator=(const OwnMethods&) = delete;
  // A function kept after its object is gone then throws instead of reaching freed memory.
  ~OwnMethods() {
    target_->object = nullptr;
    target_->Release();
  }

  // Defines `name` on `self` (read-only, not enumerable), calling `method` of the object.
  template <Method method>
  void Attach(Napi::Env env, Napi::Object self, const char* name) {
    napi_value function;
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, &Call<method>, target_, &function) != napi_ok) {
      throw Napi::Error::New(env);
    }
    // the target outlives every function made for it: each holds it until collected
    target_->holders++;
    if (napi_add_finalizer(env, function, target_, &ReleaseTarget, nullptr, nullptr) != napi_ok) {
      target_->holders--;
      throw Napi::Error::New(env);
    }
    napi_property_descriptor property = {name, nullptr, nullptr, nullptr, nullptr, function, napi_default, nullptr};
    if (napi_define_properties(env, self, 1, &property) != napi_ok) throw Napi::Error::New(env);
  }

 private:
  struct Target {
    T* object;
    size_t holders;
    void Release() {
      if (--holders == 0) delete this;
    }
  };

  static void ReleaseTarget(napi_env, void* data, void*) { static_cast<Target*>(data)->Release(); }

  template <Method method>
  static napi_value Call(napi_env env, napi_callback_info raw) {
    try {
      Napi::CallbackInfo info(env, raw);
      T* object = static_cast<Target*>(info.Data())->object;
      if (object == nullptr) throw Napi::Error::New(env, "the object this method belonged to no longer exists");
      return (object->*method)(info);
    } catch (const Napi::Error& error) {
      error.ThrowAsJavaScriptException();
      return nullptr;
    }
  }

  Target* target_;
};

}  // namespace pqnode
