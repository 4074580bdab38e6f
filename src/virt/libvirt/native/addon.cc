// hostvisor's libvirt addon: module entry. Context-aware (N-API), so every worker thread loads
// its own instance; process-wide state (connections, the event loop) lives in the C++ layer.
#include <napi.h>
#include <unistd.h>

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

// Ends the process at once, skipping exit handlers. Node's own exit joins every worker thread, and a
// worker stuck in a system call (a hung libvirt or NFS call) never joins: this is the way out.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitLibvirtOnce();
  env.SetInstanceData(new AddonData());
  Napi::Function connection = ConnectionWrap::Define(env);
  exports.Set("Connection", connection);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("setScratch", Napi::Function::New(env, SetScratch, "setScratch"));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  ExportHost(env, exports);
  ExportDomain(env, exports);
  ExportStats(env, exports);
  ExportEvents(env, exports);
  return exports;
}

}  // namespace

}  // namespace hv

// NODE_API_MODULE wants an unqualified name.
static Napi::Object InitHostvisorLibvirt(Napi::Env env, Napi::Object exports) { return hv::Init(env, exports); }

NODE_API_MODULE(hostvisor_libvirt, InitHostvisorLibvirt)
