// Live migration calls: the migration itself (virDomainMigrateToURI3, which blocks until the
// migration ends, so only workers call it), and what the source's monitor does while it runs:
// read the job, abort it, change its downtime or bandwidth.
#include <string>

#include <libvirt/libvirt.h>

#include "exports.h"
#include "js.h"

namespace hv {

namespace {

// Owns a typed-parameter list being built; a failed add leaves it valid to free.
class ParamList {
 public:
  ParamList() = default;
  ParamList(const ParamList&) = delete;
  ParamList& operator=(const ParamList&) = delete;
  ~ParamList() { virTypedParamsFree(params_, count_); }

  void String(const char* name, const std::string& value) {
    if (virTypedParamsAddString(&params_, &count_, &max_, name, value.c_str()) < 0) throw LibvirtFailure::Last("virTypedParamsAddString");
  }
  void ULLong(const char* name, unsigned long long value) {
    if (virTypedParamsAddULLong(&params_, &count_, &max_, name, value) < 0) throw LibvirtFailure::Last("virTypedParamsAddULLong");
  }
  void Int(const char* name, int value) {
    if (virTypedParamsAddInt(&params_, &count_, &max_, name, value) < 0) throw LibvirtFailure::Last("virTypedParamsAddInt");
  }
  virTypedParameterPtr params() const { return params_; }
  int count() const { return count_; }

 private:
  virTypedParameterPtr params_ = nullptr;
  int count_ = 0;
  int max_ = 0;
};

// The MigrationParams object of the TS face as libvirt's typed parameters; absent keys are left out.
void AddMigrationParams(const Napi::Object& o, ParamList& list) {
  auto str = [&](const char* key, const char* name) {
    if (o.Has(key) && o.Get(key).IsString()) list.String(name, o.Get(key).As<Napi::String>().Utf8Value());
  };
  auto num = [&](const char* key) -> double { return o.Get(key).As<Napi::Number>().DoubleValue(); };
  str("uri", VIR_MIGRATE_PARAM_URI);
  str("destXml", VIR_MIGRATE_PARAM_DEST_XML);
  str("persistXml", VIR_MIGRATE_PARAM_PERSIST_XML);
  if (o.Has("bandwidth") && o.Get("bandwidth").IsNumber()) list.ULLong(VIR_MIGRATE_PARAM_BANDWIDTH, static_cast<unsigned long long>(num("bandwidth")));
  if (o.Has("parallelConnections") && o.Get("parallelConnections").IsNumber()) {
    list.Int(VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, static_cast<int>(num("parallelConnections")));
  }
  if (o.Has("compression") && o.Get("compression").IsArray()) {
    Napi::Array methods = o.Get("compression").As<Napi::Array>();
    for (uint32_t i = 0; i < methods.Length(); ++i) list.String(VIR_MIGRATE_PARAM_COMPRESSION, methods.Get(i).ToString().Utf8Value());
  }
  if (o.Has("autoConvergeInitial") && o.Get("autoConvergeInitial").IsNumber()) {
    list.Int(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL, static_cast<int>(num("autoConvergeInitial")));
  }
  if (o.Has("autoConvergeIncrement") && o.Get("autoConvergeIncrement").IsNumber()) {
    list.Int(VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT, static_cast<int>(num("autoConvergeIncrement")));
  }
}

// (conn, uuid, destination URI, params, flags): returns when the migration has ended.
Napi::Value MigrateToUri3(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  std::string duri = StringArg(info, 2, "destination");
  if (!info[3].IsObject()) throw Napi::TypeError::New(info.Env(), "migration params must be an object");
  ParamList list;
  AddMigrationParams(info[3].As<Napi::Object>(), list);
  if (virDomainMigrateToURI3(dom.get(), duri.c_str(), list.params(), list.count(), FlagsArg(info, 4)) < 0) {
    throw LibvirtFailure::Last("virDomainMigrateToURI3");
  }
  return info.Env().Undefined();
}

// (conn, uuid, flags) → { type, stats: {...} }
Napi::Value JobStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  int type = VIR_DOMAIN_JOB_NONE;
  virTypedParameterPtr params = nullptr;
  int count = 0;
  if (virDomainGetJobStats(dom.get(), &type, &params, &count, FlagsArg(info, 2)) < 0) throw LibvirtFailure::Last("virDomainGetJobStats");
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("type", type);
  out.Set("stats", TypedParams(info.Env(), params, count));
  virTypedParamsFree(params, count);
  return out;
}

Napi::Value AbortJob(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  if (virDomainAbortJob(dom.get()) < 0) throw LibvirtFailure::Last("virDomainAbortJob");
  return info.Env().Undefined();
}

// (conn, uuid, milliseconds)
Napi::Value MigrateSetMaxDowntime(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  auto ms = static_cast<unsigned long long>(IntegerArg(info, 2, "downtime"));
  if (virDomainMigrateSetMaxDowntime(dom.get(), ms, 0) < 0) throw LibvirtFailure::Last("virDomainMigrateSetMaxDowntime");
  return info.Env().Undefined();
}

// (conn, uuid, MiB/s)
Napi::Value MigrateSetMaxSpeed(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  auto mib = static_cast<unsigned long>(IntegerArg(info, 2, "bandwidth"));
  if (virDomainMigrateSetMaxSpeed(dom.get(), mib, 0) < 0) throw LibvirtFailure::Last("virDomainMigrateSetMaxSpeed");
  return info.Env().Undefined();
}

// (conn, uuid) → MiB/s
Napi::Value MigrateGetMaxSpeed(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  unsigned long mib = 0;
  if (virDomainMigrateGetMaxSpeed(dom.get(), &mib, 0) < 0) throw LibvirtFailure::Last("virDomainMigrateGetMaxSpeed");
  return Napi::Number::New(info.Env(), static_cast<double>(mib));
}

}  // namespace

void ExportMigration(Napi::Env env, Napi::Object exports) {
  Export<MigrateToUri3>(env, exports, "migrateToUri3");
  Export<JobStats>(env, exports, "jobStats");
  Export<AbortJob>(env, exports, "abortJob");
  Export<MigrateSetMaxDowntime>(env, exports, "migrateSetMaxDowntime");
  Export<MigrateSetMaxSpeed>(env, exports, "migrateSetMaxSpeed");
  Export<MigrateGetMaxSpeed>(env, exports, "migrateGetMaxSpeed");
}

}  // namespace hv
