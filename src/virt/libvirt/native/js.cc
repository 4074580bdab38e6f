#include "js.h"

#include "connection_wrap.h"

namespace hv {

Napi::Error ToJsError(Napi::Env env, const LibvirtFailure& failure) {
  AddonData& data = Data(env);
  if (!data.errorClass.IsEmpty()) {
    Napi::Object err = data.errorClass.New({
        Napi::String::New(env, failure.message),
        Napi::Number::New(env, failure.code),
        Napi::Number::New(env, failure.domain),
        Napi::Number::New(env, failure.level),
        Napi::String::New(env, failure.call),
    });
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, failure.message);
  err.Set("code", Napi::Number::New(env, failure.code));
  err.Set("domain", Napi::Number::New(env, failure.domain));
  err.Set("level", Napi::Number::New(env, failure.level));
  err.Set("call", Napi::String::New(env, failure.call));
  return err;
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

unsigned int FlagsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsUndefined() || info[i].IsNull()) return 0;
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "flags must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Int64Value();
}

SharedConnection* ConnectionArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "expected a libvirt Connection");
  Napi::Object obj = info[i].As<Napi::Object>();
  // A type tag check is much cheaper than instanceof, and no other object can forge it.
  if (!obj.CheckTypeTag(&kConnectionTag)) throw Napi::TypeError::New(info.Env(), "expected a libvirt Connection");
  return ConnectionWrap::Unwrap(obj)->SharedRef();
}

namespace {

class OffThreadWorker : public Napi::AsyncWorker {
 public:
  OffThreadWorker(Napi::Env env, const char* name, std::function<void()> work)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }
  void Execute() override { work_(); }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
};

}  // namespace

Napi::Promise OffThread(Napi::Env env, const char* name, std::function<void()> work) {
  auto* worker = new OffThreadWorker(env, name, std::move(work));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Numbers above 2^53 lose precision; counters that large are not expected in practice.
Napi::Object TypedParams(Napi::Env env, const virTypedParameter* params, int count) {
  Napi::Object o = Napi::Object::New(env);
  for (int i = 0; i < count; ++i) {
    const virTypedParameter& p = params[i];
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: o.Set(p.field, p.value.i); break;
      case VIR_TYPED_PARAM_UINT: o.Set(p.field, p.value.ui); break;
      case VIR_TYPED_PARAM_LLONG: o.Set(p.field, static_cast<double>(p.value.l)); break;
      case VIR_TYPED_PARAM_ULLONG: o.Set(p.field, static_cast<double>(p.value.ul)); break;
      case VIR_TYPED_PARAM_DOUBLE: o.Set(p.field, p.value.d); break;
      case VIR_TYPED_PARAM_BOOLEAN: o.Set(p.field, p.value.b != 0); break;
      case VIR_TYPED_PARAM_STRING: o.Set(p.field, p.value.s != nullptr ? p.value.s : ""); break;
      default: break;
    }
  }
  return o;
}


}  // namespace hv
