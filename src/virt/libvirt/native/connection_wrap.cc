#include "connection_wrap.h"

#include <optional>

#include "js.h"

namespace hv {

const napi_type_tag kConnectionTag = {0x9b1c6a4e2f3d4b57ULL, 0xa8e1d2c3b4f50617ULL};

namespace {

// Opens (or reopens) off the JS thread and describes the host, so the main thread never blocks
// on libvirt even at start.
class OpenWorker : public Napi::AsyncWorker {
 public:
  OpenWorker(Napi::Env env, std::shared_ptr<SharedConnection> shared)
      : Napi::AsyncWorker(env, "hostvisor:libvirt-open"), deferred_(Napi::Promise::Deferred::New(env)),
        shared_(std::move(shared)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      shared_->Open();
      ConnRef conn = shared_->Acquire();
      host_ = DescribeHost(conn.get());
    } catch (const LibvirtFailure& f) {
      failure_ = f;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (failure_) {
      deferred_.Reject(ToJsError(env, *failure_).Value());
    } else {
      deferred_.Resolve(ToJs(env, host_));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<SharedConnection> shared_;
  HostIdentity host_;
  std::optional<LibvirtFailure> failure_;
};

}  // namespace

Napi::Function ConnectionWrap::Define(Napi::Env env) {
  return DefineClass(env, "Connection",
                     {
                         InstanceAccessor<&ConnectionWrap::Uri>("uri"),
                         InstanceMethod<&ConnectionWrap::Open>("open"),
                         InstanceMethod<&ConnectionWrap::OpenAsync>("openAsync"),
                         InstanceMethod<&ConnectionWrap::IsOpen>("isOpen"),
                         InstanceMethod<&ConnectionWrap::Close>("close"),
                         InstanceMethod<&ConnectionWrap::CloseAsync>("closeAsync"),
                         InstanceMethod<&ConnectionWrap::SimulateDrop>("simulateDrop"),
                     });
}

ConnectionWrap::ConnectionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConnectionWrap>(info) {
  uri_ = StringArg(info, 0, "uri");
  shared_ = SharedConnection::ForUri(uri_);
  info.This().As<Napi::Object>().TypeTag(&kConnectionTag);
}

std::shared_ptr<SharedConnection> ConnectionWrap::Shared() const {
  if (!shared_) {
    throw LibvirtFailure(VIR_ERR_INVALID_CONN, VIR_FROM_NONE, VIR_ERR_ERROR,
                         "connection to " + uri_ + " was closed by its holder", "use");
  }
  return shared_;
}

SharedConnection* ConnectionWrap::SharedRef() const {
  if (!shared_) {
    throw LibvirtFailure(VIR_ERR_INVALID_CONN, VIR_FROM_NONE, VIR_ERR_ERROR,
                         "connection to " + uri_ + " was closed by its holder", "use");
  }
  return shared_.get();
}

Napi::Value ConnectionWrap::Uri(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), uri_); }

Napi::Value ConnectionWrap::Open(const Napi::CallbackInfo& info) {
  try {
    auto shared = Shared();
    shared->Open();
    ConnRef conn = shared->Acquire();
    return ToJs(info.Env(), DescribeHost(conn.get()));
  } catch (const LibvirtFailure& f) {
    throw ToJsError(info.Env(), f);
  }
}

Napi::Value ConnectionWrap::OpenAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!shared_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(ToJsError(env, LibvirtFailure(VIR_ERR_INVALID_CONN, VIR_FROM_NONE, VIR_ERR_ERROR,
                                                  "connection to " + uri_ + " was closed by its holder", "use"))
                        .Value());
    return deferred.Promise();
  }
  auto* worker = new OpenWorker(env, shared_);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ConnectionWrap::IsOpen(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), shared_ && shared_->IsOpen());
}

Napi::Value ConnectionWrap::Close(const Napi::CallbackInfo& info) {
  shared_.reset();
  return info.Env().Undefined();
}

// The last holder's reference closes the libvirt connection, a call to libvirtd: off this thread.
Napi::Value ConnectionWrap::CloseAsync(const Napi::CallbackInfo& info) {
  return OffThread(info.Env(), "hostvisor:libvirt-close", [shared = std::move(shared_)]() mutable { shared.reset(); });
}

Napi::Value ConnectionWrap::SimulateDrop(const Napi::CallbackInfo& info) {
  if (shared_) shared_->MarkBroken(VIR_CONNECT_CLOSE_REASON_ERROR);
  return info.Env().Undefined();
}

HostIdentity DescribeHost(virConnectPtr conn) {
  HostIdentity host;
  OwnedString uri(virConnectGetURI(conn));
  if (uri.get() == nullptr) throw LibvirtFailure::Last("virConnectGetURI");
  host.uri = uri.get();
  const char* type = virConnectGetType(conn);
  if (type == nullptr) throw LibvirtFailure::Last("virConnectGetType");
  host.type = type;
  if (virConnectGetVersion(conn, &host.version) < 0) throw LibvirtFailure::Last("virConnectGetVersion");
  if (virConnectGetLibVersion(conn, &host.libVersion) < 0) throw LibvirtFailure::Last("virConnectGetLibVersion");
  OwnedString hostname(virConnectGetHostname(conn));
  if (hostname.get() == nullptr) throw LibvirtFailure::Last("virConnectGetHostname");
  host.hostname = hostname.get();
  return host;
}

Napi::Object ToJs(Napi::Env env, const HostIdentity& host) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("uri", host.uri);
  o.Set("type", host.type);
  o.Set("version", static_cast<double>(host.version));
  o.Set("libVersion", static_cast<double>(host.libVersion));
  o.Set("hostname", host.hostname);
  return o;
}

}  // namespace hv
