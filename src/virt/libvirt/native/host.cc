// Connection-level calls: what the host is and how busy its CPUs are.
#include <vector>

#include <libvirt/libvirt.h>

#include "connection_wrap.h"
#include "exports.h"
#include "js.h"

namespace hv {

namespace {

Napi::Value NodeInfo(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  virNodeInfo node;
  if (virNodeGetInfo(conn.get(), &node) < 0) throw LibvirtFailure::Last("virNodeGetInfo");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("model", node.model);
  o.Set("memoryKiB", static_cast<double>(node.memory));
  o.Set("cpus", node.cpus);
  o.Set("mhz", node.mhz);
  o.Set("nodes", node.nodes);
  o.Set("sockets", node.sockets);
  o.Set("cores", node.cores);
  o.Set("threads", node.threads);
  return o;
}

// (conn, cpuNum = -1 for all CPUs) → { kernel, user, idle, iowait, ... } in nanoseconds.
Napi::Value NodeCpuStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  int cpu = info[1].IsUndefined() ? VIR_NODE_CPU_STATS_ALL_CPUS : static_cast<int>(IntegerArg(info, 1, "cpu"));
  int count = 0;
  if (virNodeGetCPUStats(conn.get(), cpu, nullptr, &count, 0) < 0) throw LibvirtFailure::Last("virNodeGetCPUStats");
  std::vector<virNodeCPUStats> stats(count > 0 ? count : 1);
  if (count > 0 && virNodeGetCPUStats(conn.get(), cpu, stats.data(), &count, 0) < 0) {
    throw LibvirtFailure::Last("virNodeGetCPUStats");
  }
  Napi::Object o = Napi::Object::New(info.Env());
  for (int i = 0; i < count; ++i) o.Set(stats[i].field, static_cast<double>(stats[i].value));
  return o;
}

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  OwnedString xml(virConnectGetCapabilities(conn.get()));
  if (xml.get() == nullptr) throw LibvirtFailure::Last("virConnectGetCapabilities");
  return Napi::String::New(info.Env(), xml.get());
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  return ToJs(info.Env(), DescribeHost(conn.get()));
}

Napi::Value Hostname(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  OwnedString name(virConnectGetHostname(conn.get()));
  if (name.get() == nullptr) throw LibvirtFailure::Last("virConnectGetHostname");
  return Napi::String::New(info.Env(), name.get());
}

Napi::Value HypervisorType(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  const char* type = virConnectGetType(conn.get());
  if (type == nullptr) throw LibvirtFailure::Last("virConnectGetType");
  return Napi::String::New(info.Env(), type);
}

Napi::Value HypervisorVersion(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  unsigned long version = 0;
  if (virConnectGetVersion(conn.get(), &version) < 0) throw LibvirtFailure::Last("virConnectGetVersion");
  return Napi::Number::New(info.Env(), static_cast<double>(version));
}

Napi::Value LibVersion(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  unsigned long version = 0;
  if (virConnectGetLibVersion(conn.get(), &version) < 0) throw LibvirtFailure::Last("virConnectGetLibVersion");
  return Napi::Number::New(info.Env(), static_cast<double>(version));
}

Napi::Value Uri(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  OwnedString uri(virConnectGetURI(conn.get()));
  if (uri.get() == nullptr) throw LibvirtFailure::Last("virConnectGetURI");
  return Napi::String::New(info.Env(), uri.get());
}

// The libvirt library this process loaded (no connection needed).
Napi::Value ClientLibVersion(const Napi::CallbackInfo& info) {
  unsigned long version = 0;
  if (virGetVersion(&version, nullptr, nullptr) < 0) throw LibvirtFailure::Last("virGetVersion");
  return Napi::Number::New(info.Env(), static_cast<double>(version));
}

}  // namespace

void ExportHost(Napi::Env env, Napi::Object exports) {
  Export<NodeInfo>(env, exports, "nodeInfo");
  Export<NodeCpuStats>(env, exports, "nodeCpuStats");
  Export<Capabilities>(env, exports, "capabilities");
  Export<Describe>(env, exports, "describe");
  Export<Hostname>(env, exports, "hostname");
  Export<HypervisorType>(env, exports, "hypervisorType");
  Export<HypervisorVersion>(env, exports, "hypervisorVersion");
  Export<LibVersion>(env, exports, "libVersion");
  Export<Uri>(env, exports, "uri");
  Export<ClientLibVersion>(env, exports, "clientLibVersion");
}

}  // namespace hv
