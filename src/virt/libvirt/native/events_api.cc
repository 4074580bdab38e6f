// The JS side of events: start/stop the event-loop thread, and subscribe a callback to the
// domain events of a connection. A Subscription gives its callbacks back on close(), or when
// its thread's environment goes away.
#include <memory>
#include <optional>

#include "event_loop.h"
#include "event_sink.h"
#include "exports.h"
#include "js.h"

namespace hv {

namespace {

class SubscriptionWrap : public Napi::ObjectWrap<SubscriptionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Subscription", {InstanceMethod<&SubscriptionWrap::CloseAsync>("closeAsync")});
  }

  explicit SubscriptionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SubscriptionWrap>(info) {}
  ~SubscriptionWrap() override { Unsubscribe(); }

  void Attach(std::shared_ptr<SharedConnection> shared, std::shared_ptr<EventSink> sink) {
    shared_ = std::move(shared);
    sink_ = std::move(sink);
  }

 private:
  // Deliveries stop at once; giving the callbacks back to libvirt happens off this thread.
  Napi::Value CloseAsync(const Napi::CallbackInfo& info) {
    if (!sink_) return OffThread(info.Env(), "hostvisor:libvirt-unsubscribe", [] {});
    sink_->Release();
    return OffThread(info.Env(), "hostvisor:libvirt-unsubscribe",
                     [shared = std::move(shared_), sink = std::move(sink_)] { shared->Unsubscribe(sink); });
  }

  void Unsubscribe() {
    if (!sink_) return;
    shared_->Unsubscribe(sink_);
    sink_->Release();
    sink_.reset();
    shared_.reset();
  }

  std::shared_ptr<SharedConnection> shared_;
  std::shared_ptr<EventSink> sink_;
};

// Runs when the thread-safe function is finalized: after Release, or when the environment is
// torn down first. Either way no more calls may be made on it.
void SinkFinalized(Napi::Env, std::shared_ptr<EventSink>* box, std::nullptr_t*) {
  (*box)->Finalized();
  delete box;
}

// Registers the sink's callbacks with libvirt off the JS thread (a call to libvirtd, which may
// hang), then hands the Subscription over on it.
class SubscribeWorker : public Napi::AsyncWorker {
 public:
  SubscribeWorker(Napi::Env env, std::shared_ptr<SharedConnection> shared, std::shared_ptr<EventSink> sink)
      : Napi::AsyncWorker(env, "hostvisor:libvirt-subscribe"), deferred_(Napi::Promise::Deferred::New(env)),
        shared_(std::move(shared)), sink_(std::move(sink)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      shared_->Subscribe(sink_);
    } catch (const LibvirtFailure& f) {
      failure_ = f;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (failure_) {
      sink_->Release();
      deferred_.Reject(ToJsError(env, *failure_).Value());
      return;
    }
    Napi::Object obj = Data(env).subscriptionClass.New({});
    SubscriptionWrap::Unwrap(obj)->Attach(std::move(shared_), std::move(sink_));
    deferred_.Resolve(obj);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<SharedConnection> shared_;
  std::shared_ptr<EventSink> sink_;
  std::optional<LibvirtFailure> failure_;
};

// (conn, callback) → Promise<Subscription>
Napi::Value Subscribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<SharedConnection> shared = ConnectionArg(info, 0)->shared_from_this();
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "callback must be a function");
  auto sink = std::make_shared<EventSink>();
  auto* box = new std::shared_ptr<EventSink>(sink);
  EventTsfn tsfn = EventTsfn::New(env, info[1].As<Napi::Function>(), "hostvisor:libvirt-events", 0, 1, nullptr,
                                  SinkFinalized, box);
  // Events must not keep the process alive: the daemon's own lifecycle decides when it ends.
  tsfn.Unref(env);
  sink->Attach(tsfn);
  auto* worker = new SubscribeWorker(env, std::move(shared), std::move(sink));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value StartLoop(const Napi::CallbackInfo& info) {
  StartEventLoop();
  return info.Env().Undefined();
}

// (timeoutMs) → whether the thread finished in time
Napi::Value StopLoop(const Napi::CallbackInfo& info) {
  int timeout = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 2000;
  return Napi::Boolean::New(info.Env(), StopEventLoop(timeout));
}

Napi::Value LoopRunning(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), EventLoopRunning());
}

}  // namespace

void ExportEvents(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = SubscriptionWrap::Define(env);
  Data(env).subscriptionClass = Napi::Persistent(cls);
  Export<Subscribe>(env, exports, "subscribe");
  Export<StartLoop>(env, exports, "startEventLoop");
  Export<StopLoop>(env, exports, "stopEventLoop");
  Export<LoopRunning>(env, exports, "eventLoopRunning");
}

}  // namespace hv
