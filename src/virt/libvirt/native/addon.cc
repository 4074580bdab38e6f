// hostvisor's libvirt addon: module entry. Context-aware (N-API), so every worker thread loads
// its own instance; process-wide state (connections, the event loop) lives in the C++ layer.
#include <napi.h>

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitLibvirtOnce();
  env.SetInstanceData(new AddonData());
  Napi::Function connection = ConnectionWrap::Define(env);
  exports.Set("Connection", connection);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("setScratch", Napi::Function::New(env, SetScratch, "setScratch"));
  ExportHost(env, exports);
  ExportDomain(env, exports);
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
