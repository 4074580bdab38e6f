// Glue between N-API and the libvirt layer: per-thread addon data, argument readers, and the
// conversion of a LibvirtFailure into the TS face's LibvirtError class.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <napi.h>

#include "failure.h"
#include "shared_connection.h"

namespace hv {

// One per JS thread (the addon is context-aware): classes are per isolate.
struct AddonData {
  Napi::FunctionReference errorClass;  // set by the TS face; plain Error until then
  Napi::FunctionReference subscriptionClass;
  // A Float64Array the face owns, for hot calls that return many numbers: filling it is far
  // cheaper than building JS objects key by key (see stats.cc, SampleDomain).
  Napi::Reference<Napi::Float64Array> scratchRef;
  double* scratch = nullptr;
  size_t scratchLength = 0;
};

inline AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

Napi::Error ToJsError(Napi::Env env, const LibvirtFailure& failure);

// Runs `work` on libuv's thread pool; the promise resolves when it is done. For libvirt calls the
// JS thread must never wait on: a hung libvirtd does not answer them, and the daemon's stop has
// a deadline to keep. `work` must not throw.
Napi::Promise OffThread(Napi::Env env, const char* name, std::function<void()> work);

// Wraps an exported function so a LibvirtFailure becomes a thrown LibvirtError.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const LibvirtFailure& failure) {
    throw ToJsError(info.Env(), failure);
  }
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void Export(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New(env, Guarded<F>, name));
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what);
// An unsigned flags word; undefined means 0.
unsigned int FlagsArg(const Napi::CallbackInfo& info, size_t i);
int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* what);
// The shared connection behind the Connection object in argument `i`; the JS object keeps it
// alive for the duration of the call.
SharedConnection* ConnectionArg(const Napi::CallbackInfo& info, size_t i);

// The usual first two arguments: (connection, uuid).
inline ConnRef AcquireArg(const Napi::CallbackInfo& info) { return ConnectionArg(info, 0)->Acquire(); }

// Typed parameters as a plain object keyed by name (numbers above 2^53 lose precision).
Napi::Object TypedParams(Napi::Env env, const virTypedParameter* params, int count);

inline Napi::Object Identity(Napi::Env env, virDomainPtr dom) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("uuid", DomainUuid(dom));
  const char* name = virDomainGetName(dom);
  o.Set("name", name != nullptr ? name : "");
  unsigned int id = virDomainGetID(dom);
  o.Set("id", id == static_cast<unsigned int>(-1) ? -1.0 : static_cast<double>(id));
  return o;
}

}  // namespace hv
