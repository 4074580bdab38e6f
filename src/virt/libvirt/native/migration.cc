// Live migration calls: the migration itself (virDomainMigrateToURI3, which blocks until the
// migration ends, so only workers call it), and what the source's monitor does while it runs:
// read the job, abort it, change its downtime or bandwidth.
#include <climits>
#include <cmath>
#include <string>

#include <libvirt/libvirt.h>

#include "exports.h"
#include "js.h"

namespace hv {

namespace {

// Beyond it a JS number no longer holds every integer.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// Owns a typed-parameter list, built here or filled by libvirt; a failed add leaves it valid to free.
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
  // For calls that return a list (virDomainGetJobStats): they fill these on an empty list.
  virTypedParameterPtr* paramsSlot() { return &params_; }
  int* countSlot() { return &count_; }

 private:
  virTypedParameterPtr params_ = nullptr;
  int count_ = 0;
  int max_ = 0;
};

// libvirt takes these unsigned: a negative or fractional number would wrap into another value
// (-1 MiB/s into the largest speed) instead of failing, so it is refused here.
unsigned long long Unsigned(Napi::Env env, const Napi::Value& v, const std::string& what, double max) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= max) || std::trunc(d) != d) {
    throw Napi::RangeError::New(env, what + " must be an integer from 0 to " + std::to_string(static_cast<unsigned long long>(max)));
  }
  return static_cast<unsigned long long>(d);
}

unsigned long long UnsignedArg(const Napi::CallbackInfo& info, size_t i, const char* what, double max) {
  return Unsigned(info.Env(), info[i], what, max);
}

// Each reader leaves the key out when it is absent or undefined (an optional TS property), and
// refuses a value of the wrong type rather than migrating without it.
void AddString(ParamList& list, const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a string");
  list.String(name, v.As<Napi::String>().Utf8Value());
}

void AddStrings(ParamList& list, const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return;
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array of strings");
  Napi::Array values = v.As<Napi::Array>();
  for (uint32_t i = 0; i < values.Length(); ++i) {
    Napi::Value item = values.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be an array of strings");
    list.String(name, item.As<Napi::String>().Utf8Value());
  }
}

void AddULLong(ParamList& list, const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (!v.IsUndefined()) list.ULLong(name, Unsigned(o.Env(), v, key, kMaxSafeInteger));
}

void AddInt(ParamList& list, const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (!v.IsUndefined()) list.Int(name, static_cast<int>(Unsigned(o.Env(), v, key, INT_MAX)));
}

// The MigrationParams object of the TS face as libvirt's typed parameters, each as the type
// libvirt documents for it (it refuses a parameter of another type).
void AddMigrationParams(const Napi::Object& o, ParamList& list) {
  AddString(list, o, "uri", VIR_MIGRATE_PARAM_URI);
  AddString(list, o, "destXml", VIR_MIGRATE_PARAM_DEST_XML);
  AddString(list, o, "persistXml", VIR_MIGRATE_PARAM_PERSIST_XML);
  AddULLong(list, o, "bandwidth", VIR_MIGRATE_PARAM_BANDWIDTH);
  AddInt(list, o, "parallelConnections", VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS);
  AddStrings(list, o, "compression", VIR_MIGRATE_PARAM_COMPRESSION);
  AddInt(list, o, "autoConvergeInitial", VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL);
  AddInt(list, o, "autoConvergeIncrement", VIR_MIGRATE_PARAM_AUTO_CONVERGE_INCREMENT);
}

// (conn, uuid, destination URI, params, flags): returns when the migration has ended.
Napi::Value MigrateToUri3(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  std::string duri = StringArg(info, 2, "destination");
  if (!info[3].IsObject()) throw Napi::TypeError::New(info.Env(), "migration params must be an object");
  ParamList list;
  AddMigrationParams(info[3].As<Napi::Object>(), list);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  if (virDomainMigrateToURI3(dom.get(), duri.c_str(), list.params(), list.count(), FlagsArg(info, 4)) < 0) {
    throw LibvirtFailure::Last("virDomainMigrateToURI3");
  }
  return info.Env().Undefined();
}

// (conn, uuid, flags) → { type, stats: {...} }; every typed parameter, the face keeps the numbers.
Napi::Value JobStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  int type = VIR_DOMAIN_JOB_NONE;
  ParamList list;
  if (virDomainGetJobStats(dom.get(), &type, list.paramsSlot(), list.countSlot(), FlagsArg(info, 2)) < 0) {
    throw LibvirtFailure::Last("virDomainGetJobStats");
  }
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("type", type);
  out.Set("stats", TypedParams(info.Env(), list.params(), list.count()));
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
  unsigned long long ms = UnsignedArg(info, 2, "downtime", kMaxSafeInteger);
  if (virDomainMigrateSetMaxDowntime(dom.get(), ms, 0) < 0) throw LibvirtFailure::Last("virDomainMigrateSetMaxDowntime");
  return info.Env().Undefined();
}

// (conn, uuid, MiB/s)
Napi::Value MigrateSetMaxSpeed(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  auto mib = static_cast<unsigned long>(UnsignedArg(info, 2, "bandwidth", kMaxSafeInteger));
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
