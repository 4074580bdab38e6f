// What libvirt knows about the host's hardware beyond virNodeGetInfo: the CPU models and devices
// a guest could be given (domain capabilities), the host's devices (node devices) and its SMBIOS
// tables (sysinfo). Each returns libvirt's XML as it is; parsing happens in TypeScript.
#include <string>
#include <vector>

#include <libvirt/libvirt.h>

#include "connection_wrap.h"
#include "exports.h"
#include "js.h"

namespace hv {

namespace {

// An empty or undefined argument means "let libvirt choose" (NULL).
std::string OptionalStringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return std::string();
  return StringArg(info, i, what);
}

const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// (conn, emulatorbin?, arch?, machine?, virttype?) -> XML. The test driver does not implement it
// and fails with VIR_ERR_NO_SUPPORT.
Napi::Value DomainCapabilities(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  std::string emulator = OptionalStringArg(info, 1, "emulatorbin");
  std::string arch = OptionalStringArg(info, 2, "arch");
  std::string machine = OptionalStringArg(info, 3, "machine");
  std::string virttype = OptionalStringArg(info, 4, "virttype");
  OwnedString xml(virConnectGetDomainCapabilities(conn.get(), OrNull(emulator), OrNull(arch), OrNull(machine),
                                                  OrNull(virttype), 0));
  if (xml.get() == nullptr) throw LibvirtFailure::Last("virConnectGetDomainCapabilities");
  return Napi::String::New(info.Env(), xml.get());
}

class NodeDeviceRef {
 public:
  explicit NodeDeviceRef(virNodeDevicePtr dev) : dev_(dev) {}
  NodeDeviceRef(const NodeDeviceRef&) = delete;
  NodeDeviceRef& operator=(const NodeDeviceRef&) = delete;
  NodeDeviceRef(NodeDeviceRef&& other) noexcept : dev_(other.dev_) { other.dev_ = nullptr; }
  ~NodeDeviceRef() {
    if (dev_ != nullptr) virNodeDeviceFree(dev_);
  }
  virNodeDevicePtr get() const { return dev_; }

 private:
  virNodeDevicePtr dev_;
};

// (conn, flags) -> [{ name, xml }]. A device that disappears between the listing and its XML
// (hot-unplug) is left out rather than failing the whole listing.
Napi::Value NodeDevices(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  unsigned int flags = FlagsArg(info, 1);
  virNodeDevicePtr* raw = nullptr;
  int count = virConnectListAllNodeDevices(conn.get(), &raw, flags);
  if (count < 0) throw LibvirtFailure::Last("virConnectListAllNodeDevices");
  std::vector<NodeDeviceRef> devices;
  devices.reserve(count);
  for (int i = 0; i < count; ++i) devices.emplace_back(raw[i]);
  std::free(raw);

  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const NodeDeviceRef& dev : devices) {
    const char* name = virNodeDeviceGetName(dev.get());
    OwnedString xml(virNodeDeviceGetXMLDesc(dev.get(), 0));
    if (name == nullptr || xml.get() == nullptr) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", name);
    o.Set("xml", xml.get());
    out.Set(n++, o);
  }
  return out;
}

// (conn) -> the host's SMBIOS as libvirt reads it (<sysinfo type='smbios'>).
Napi::Value Sysinfo(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  OwnedString xml(virConnectGetSysinfo(conn.get(), 0));
  if (xml.get() == nullptr) throw LibvirtFailure::Last("virConnectGetSysinfo");
  return Napi::String::New(info.Env(), xml.get());
}

}  // namespace

void ExportHostDevices(Napi::Env env, Napi::Object exports) {
  Export<DomainCapabilities>(env, exports, "domainCapabilities");
  Export<NodeDevices>(env, exports, "nodeDevices");
  Export<Sysinfo>(env, exports, "sysinfo");
}

}  // namespace hv
