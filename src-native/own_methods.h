// Methods called once per statement, given to each object as functions of its own that
// carry the C++ object in their data. node-addon-api's instance methods find the object
// with napi_unwrap on every call: a private-property lookup that costs more than the rest
// of a call into C++ (about 790 of 1,200 instructions for a connection's flush()).
//
// Making those functions costs more than the rest of making the object (some 20 µs for
// five, with the finalizers each needs and their collection): they are made on the first
// look-up of any of them, by getters of the same names on the prototype, which the
// object's own properties then hide. An object that never runs a statement (a connection
// opened and closed) never makes them.
#pragma once

#include <napi.h>

#include <cstddef>

namespace pqnode {

template <typename T>
class OwnMethods {
 public:
  using Method = Napi::Value (T::*)(const Napi::CallbackInfo&);

  // One method: its name on the object, and the function's callback.
  struct Entry {
    const char* name;
    napi_callback call;
  };
  template <Method method>
  static constexpr Entry Of(const char* name) {
    return {name, &Call<method>};
  }

  // `entries`, of static storage, are what Attach gives each object.
  template <size_t N>
  OwnMethods(T* object, const Entry (&entries)[N]) : target_(new Target{object, 1}), entries_(entries), count_(N) {
    static_assert(N <= kMaxEntries, "more own methods than Attach has room for");
  }
  OwnMethods(const OwnMethods&) = delete;
  OwnMethods& operator=(const OwnMethods&) = delete;
  // A function kept after its object is gone then throws instead of reaching freed memory.
  ~OwnMethods() {
    target_->object = nullptr;
    target_->Release();
  }

  // The prototype's getter for one entry (`entry`: the getter's data, one of the entries):
  // gives `self` its own functions, once, and returns the one asked for.
  Napi::Value Get(Napi::Env env, Napi::Object self, const Entry* entry) {
    // reached again only past the own property (Reflect.get on the prototype, say)
    if (attached_) return self.Get(entry->name);
    napi_value functions[kMaxEntries];
    Attach(env, self, functions);
    return Napi::Value(env, functions[entry - entries_]);
  }

 private:
  static constexpr size_t kMaxEntries = 16;

  struct Target {
    T* object;
    size_t holders;
    void Release() {
      if (--holders == 0) delete this;
    }
  };

  // Defines each entry's function on `self` (read-only, not enumerable), into `functions` too.
  void Attach(Napi::Env env, Napi::Object self, napi_value* functions) {
    napi_property_descriptor properties[kMaxEntries];
    for (size_t i = 0; i < count_; i++) {
      const Entry& entry = entries_[i];
      if (napi_create_function(env, entry.name, NAPI_AUTO_LENGTH, entry.call, target_, &functions[i]) != napi_ok) {
        throw Napi::Error::New(env);
      }
      // the target outlives every function made for it: each holds it until collected
      target_->holders++;
      if (napi_add_finalizer(env, functions[i], target_, &ReleaseTarget, nullptr, nullptr) != napi_ok) {
        target_->holders--;
        throw Napi::Error::New(env);
      }
      properties[i] = {entry.name, nullptr, nullptr, nullptr, nullptr, functions[i], napi_default, nullptr};
    }
    if (napi_define_properties(env, self, count_, properties) != napi_ok) throw Napi::Error::New(env);
    attached_ = true;
  }

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
  const Entry* entries_;
  size_t count_;
  bool attached_ = false;
};

}  // namespace pqnode
