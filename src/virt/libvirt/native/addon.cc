// hostvisor's libvirt addon: module entry. Context-aware (N-API), so every worker thread loads
// its own instance; process-wide state (connections, the event loop) lives in the C++ layer.
#include <napi.h>

#include <cstdlib>
#include <mutex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "connection_wrap.h"
#include "event_loop.h"
#include "exports.h"
#include "js.h"

namespace hv {

namespace {

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "error class must be a constructor");
  Data(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value SetScratch(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), "scratch must be a Float64Array");
  }
  auto array = info[0].As<Napi::Float64Array>();
  AddonData& data = Data(info.Env());
  data.scratchRef = Napi::Persistent(array);
  data.scratch = array.Data();
  data.scratchLength = array.ElementLength();
  return info.Env().Undefined();
}

// glibc gives every thread that mallocs while another holds the lock an arena of its own (up to 8
// per core), each a 64 MB reservation that keeps its freed pages. The daemon's threads are many
// (worker threads come and go, libvirt's, libuv's, V8's) and allocate little at once: on a 1000-VM
// host the arenas held ~36 MB of RSS, ~11 MB with two of them (bench/sampling.ts, smaps). Set here,
// at the addon's first load on the main thread, before the worker threads exist; glibc fixes its
// arena limit the first time it needs one past the 8th, so it must come early. An operator's
// MALLOC_ARENA_MAX wins (glibc read it at start).
void LimitMallocArenasOnce() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  });
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LimitMallocArenasOnce();
  InitLibvirtOnce();
  env.SetInstanceData(new AddonData());
  Napi::Function connection = ConnectionWrap::Define(env);
  exports.Set("Connection", connection);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("setScratch", Napi::Function::New(env, SetScratch, "setScratch"));
  ExportHost(env, exports);
  ExportHostDevices(env, exports);
  ExportDomain(env, exports);
  ExportMigration(env, exports);
  ExportStats(env, exports);
  ExportEvents(env, exports);
  ExportProcess(env, exports);
  return exports;
}

}  // namespace

}  // namespace hv

// NODE_API_MODULE wants an unqualified name.
static Napi::Object InitHostvisorLibvirt(Napi::Env env, Napi::Object exports) { return hv::Init(env, exports); }

NODE_API_MODULE(hostvisor_libvirt, InitHostvisorLibvirt)
