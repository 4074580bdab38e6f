// The JS `Connection` object: one holder of the process-wide connection for a URI. Each JS
// thread makes its own; all of them share one libvirt connection. close() (or the garbage
// collector, as a fallback) gives the reference back.
#pragma once

#include <memory>

#include <napi.h>

#include "shared_connection.h"

namespace hv {

// Marks JS objects that really are Connections (napi_type_tag_object).
extern const napi_type_tag kConnectionTag;

class ConnectionWrap : public Napi::ObjectWrap<ConnectionWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ConnectionWrap(const Napi::CallbackInfo& info);

  // Throws a LibvirtFailure (VIR_ERR_INVALID_CONN) after close().
  std::shared_ptr<SharedConnection> Shared() const;
  // The same without taking a reference, for the duration of one call.
  SharedConnection* SharedRef() const;

 private:
  Napi::Value Uri(const Napi::CallbackInfo& info);
  Napi::Value Open(const Napi::CallbackInfo& info);
  Napi::Value OpenAsync(const Napi::CallbackInfo& info);
  Napi::Value IsOpen(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value CloseAsync(const Napi::CallbackInfo& info);
  Napi::Value SimulateDrop(const Napi::CallbackInfo& info);

  std::string uri_;
  std::shared_ptr<SharedConnection> shared_;
};

// What the hypervisor at the other end says about itself.
struct HostIdentity {
  std::string uri;
  std::string type;
  unsigned long version = 0;
  unsigned long libVersion = 0;
  std::string hostname;
};
HostIdentity DescribeHost(virConnectPtr conn);
Napi::Object ToJs(Napi::Env env, const HostIdentity& host);

}  // namespace hv
