// Domain calls. Domains cross the boundary as UUID strings: each call looks the domain up and
// frees it before returning, so no handle outlives the call or waits for the GC.
#include <vector>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>

#include "exports.h"
#include "js.h"

namespace hv {

namespace {

// (conn, uuid, flags?) verbs that return nothing.
Napi::Value RunVerb(const Napi::CallbackInfo& info, int (*call)(virDomainPtr, unsigned int), const char* name) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  if (call(dom.get(), FlagsArg(info, 2)) < 0) throw LibvirtFailure::Last(name);
  return info.Env().Undefined();
}

int Suspend(virDomainPtr dom, unsigned int) { return virDomainSuspend(dom); }
int Resume(virDomainPtr dom, unsigned int) { return virDomainResume(dom); }

Napi::Value Start(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainCreateWithFlags, "virDomainCreateWithFlags"); }
Napi::Value Destroy(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainDestroyFlags, "virDomainDestroyFlags"); }
Napi::Value Shutdown(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainShutdownFlags, "virDomainShutdownFlags"); }
Napi::Value Reboot(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainReboot, "virDomainReboot"); }
Napi::Value Reset(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainReset, "virDomainReset"); }
Napi::Value SuspendDomain(const Napi::CallbackInfo& info) { return RunVerb(info, Suspend, "virDomainSuspend"); }
Napi::Value ResumeDomain(const Napi::CallbackInfo& info) { return RunVerb(info, Resume, "virDomainResume"); }
Napi::Value Undefine(const Napi::CallbackInfo& info) { return RunVerb(info, virDomainUndefineFlags, "virDomainUndefineFlags"); }

// (conn, flags) → [{ uuid, name, id }]
Napi::Value ListDomains(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  virDomainPtr* doms = nullptr;
  int count = virConnectListAllDomains(conn.get(), &doms, FlagsArg(info, 1));
  if (count < 0) throw LibvirtFailure::Last("virConnectListAllDomains");
  // Own every element before anything can throw.
  std::vector<DomainRef> owned;
  owned.reserve(count);
  for (int i = 0; i < count; ++i) owned.emplace_back(doms[i]);
  free(doms);
  Napi::Array list = Napi::Array::New(info.Env(), count);
  for (int i = 0; i < count; ++i) list.Set(i, Identity(info.Env(), owned[i].get()));
  return list;
}

Napi::Value LookupByUuid(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  return Identity(info.Env(), dom.get());
}

Napi::Value LookupByName(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom(virDomainLookupByName(conn.get(), StringArg(info, 1, "name").c_str()));
  if (dom.get() == nullptr) throw LibvirtFailure::Last("virDomainLookupByName");
  return Identity(info.Env(), dom.get());
}

Napi::Value DefineXml(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom(virDomainDefineXMLFlags(conn.get(), StringArg(info, 1, "xml").c_str(), FlagsArg(info, 2)));
  if (dom.get() == nullptr) throw LibvirtFailure::Last("virDomainDefineXMLFlags");
  return Identity(info.Env(), dom.get());
}

Napi::Value CreateXml(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom(virDomainCreateXML(conn.get(), StringArg(info, 1, "xml").c_str(), FlagsArg(info, 2)));
  if (dom.get() == nullptr) throw LibvirtFailure::Last("virDomainCreateXML");
  return Identity(info.Env(), dom.get());
}

Napi::Value DomainIdentity(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  return Identity(info.Env(), dom.get());
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  virDomainInfo di;
  if (virDomainGetInfo(dom.get(), &di) < 0) throw LibvirtFailure::Last("virDomainGetInfo");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("state", di.state);
  o.Set("maxMemKiB", static_cast<double>(di.maxMem));
  o.Set("memoryKiB", static_cast<double>(di.memory));
  o.Set("vcpus", di.nrVirtCpu);
  o.Set("cpuTimeNs", static_cast<double>(di.cpuTime));
  return o;
}

Napi::Value State(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  int state = 0;
  int reason = 0;
  if (virDomainGetState(dom.get(), &state, &reason, 0) < 0) throw LibvirtFailure::Last("virDomainGetState");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("state", state);
  o.Set("reason", reason);
  return o;
}

Napi::Value XmlDesc(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  OwnedString xml(virDomainGetXMLDesc(dom.get(), FlagsArg(info, 2)));
  if (xml.get() == nullptr) throw LibvirtFailure::Last("virDomainGetXMLDesc");
  return Napi::String::New(info.Env(), xml.get());
}

Napi::Value IsActive(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  int active = virDomainIsActive(dom.get());
  if (active < 0) throw LibvirtFailure::Last("virDomainIsActive");
  return Napi::Boolean::New(info.Env(), active == 1);
}

Napi::Value IsPersistent(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  int persistent = virDomainIsPersistent(dom.get());
  if (persistent < 0) throw LibvirtFailure::Last("virDomainIsPersistent");
  return Napi::Boolean::New(info.Env(), persistent == 1);
}

// (conn, uuid, count, flags)
Napi::Value SetVcpus(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  auto count = static_cast<unsigned int>(IntegerArg(info, 2, "count"));
  if (virDomainSetVcpusFlags(dom.get(), count, FlagsArg(info, 3)) < 0) {
    throw LibvirtFailure::Last("virDomainSetVcpusFlags");
  }
  return info.Env().Undefined();
}

// (conn, uuid, KiB, flags)
Napi::Value SetMemory(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  auto kib = static_cast<unsigned long>(IntegerArg(info, 2, "memory"));
  if (virDomainSetMemoryFlags(dom.get(), kib, FlagsArg(info, 3)) < 0) {
    throw LibvirtFailure::Last("virDomainSetMemoryFlags");
  }
  return info.Env().Undefined();
}

// (conn, uuid, command JSON, timeout seconds (or -2 default, -1 block), flags) → reply JSON
Napi::Value QemuAgentCommand(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  std::string command = StringArg(info, 2, "command");
  int timeout = static_cast<int>(IntegerArg(info, 3, "timeout"));
  OwnedString reply(virDomainQemuAgentCommand(dom.get(), command.c_str(), timeout, FlagsArg(info, 4)));
  if (reply.get() == nullptr) throw LibvirtFailure::Last("virDomainQemuAgentCommand");
  return Napi::String::New(info.Env(), reply.get());
}

// (conn, uuid, quota µs (-1: no limit), period µs, flags): each vCPU may run `quota` of every
// `period` (the CFS bandwidth libvirt keeps in <cputune>).
Napi::Value SetVcpuBandwidth(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  long long quota = IntegerArg(info, 2, "quota");
  auto period = static_cast<unsigned long long>(IntegerArg(info, 3, "period"));
  virTypedParameterPtr params = nullptr;
  int count = 0;
  int max = 0;
  bool built = virTypedParamsAddULLong(&params, &count, &max, VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, period) == 0 &&
               virTypedParamsAddLLong(&params, &count, &max, VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, quota) == 0;
  int rc = built ? virDomainSetSchedulerParametersFlags(dom.get(), params, count, FlagsArg(info, 4)) : -1;
  virTypedParamsFree(params, count);
  if (rc < 0) throw LibvirtFailure::Last(built ? "virDomainSetSchedulerParametersFlags" : "virTypedParamsAdd");
  return info.Env().Undefined();
}

// (conn, uuid, element XML, key (namespace prefix), namespace URI, flags)
Napi::Value SetMetadata(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  std::string xml = StringArg(info, 2, "xml");
  std::string key = StringArg(info, 3, "key");
  std::string uri = StringArg(info, 4, "uri");
  if (virDomainSetMetadata(dom.get(), VIR_DOMAIN_METADATA_ELEMENT, xml.c_str(), key.c_str(), uri.c_str(), FlagsArg(info, 5)) < 0) {
    throw LibvirtFailure::Last("virDomainSetMetadata");
  }
  return info.Env().Undefined();
}

}  // namespace

void ExportDomain(Napi::Env env, Napi::Object exports) {
  Export<ListDomains>(env, exports, "listDomains");
  Export<LookupByUuid>(env, exports, "lookupByUuid");
  Export<LookupByName>(env, exports, "lookupByName");
  Export<DefineXml>(env, exports, "defineXml");
  Export<CreateXml>(env, exports, "createXml");
  Export<Start>(env, exports, "start");
  Export<Destroy>(env, exports, "destroy");
  Export<Shutdown>(env, exports, "shutdown");
  Export<Reboot>(env, exports, "reboot");
  Export<Reset>(env, exports, "reset");
  Export<SuspendDomain>(env, exports, "suspend");
  Export<ResumeDomain>(env, exports, "resume");
  Export<Undefine>(env, exports, "undefine");
  Export<DomainIdentity>(env, exports, "identity");
  Export<Info>(env, exports, "info");
  Export<State>(env, exports, "state");
  Export<XmlDesc>(env, exports, "xmlDesc");
  Export<IsActive>(env, exports, "isActive");
  Export<IsPersistent>(env, exports, "isPersistent");
  Export<SetVcpus>(env, exports, "setVcpus");
  Export<SetMemory>(env, exports, "setMemory");
  Export<QemuAgentCommand>(env, exports, "qemuAgentCommand");
  Export<SetVcpuBandwidth>(env, exports, "setVcpuBandwidth");
  Export<SetMetadata>(env, exports, "setMetadata");
}

}  // namespace hv
