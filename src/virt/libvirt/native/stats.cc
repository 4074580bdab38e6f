// Statistics: per-domain calls (which libvirt's test driver fills) and the bulk calls
// virConnectGetAllDomainStats / virDomainListGetStats (which real drivers fill for every group
// and the test driver only for `state`). Typed parameters become plain objects keyed by name.
#include <limits>
#include <vector>

#include <libvirt/libvirt.h>

#include "exports.h"
#include "js.h"

namespace hv {

namespace {

// virDomainStatsRecordListFree frees the records and the domains in them.
class StatsRecords {
 public:
  StatsRecords() = default;
  StatsRecords(const StatsRecords&) = delete;
  StatsRecords& operator=(const StatsRecords&) = delete;
  ~StatsRecords() {
    if (records != nullptr) virDomainStatsRecordListFree(records);
  }
  virDomainStatsRecordPtr* records = nullptr;
};

Napi::Array RecordsToJs(Napi::Env env, const StatsRecords& owned, int count) {
  Napi::Array list = Napi::Array::New(env, count);
  for (int i = 0; i < count; ++i) {
    const virDomainStatsRecord* r = owned.records[i];
    Napi::Object o = Identity(env, r->dom);
    o.Set("params", TypedParams(env, r->params, r->nparams));
    list.Set(i, o);
  }
  return list;
}

// (conn, stats groups mask (0 = all), flags) → [{ uuid, name, id, params }]
Napi::Value AllDomainStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  StatsRecords owned;
  int count = virConnectGetAllDomainStats(conn.get(), FlagsArg(info, 1), &owned.records, FlagsArg(info, 2));
  if (count < 0) throw LibvirtFailure::Last("virConnectGetAllDomainStats");
  return RecordsToJs(info.Env(), owned, count);
}

// (conn, uuids, stats groups mask, flags) → records for the domains that exist; a UUID that
// is gone is skipped (callers compare), any other lookup failure throws.
Napi::Value DomainListStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  if (!info[1].IsArray()) throw Napi::TypeError::New(info.Env(), "uuids must be an array");
  Napi::Array uuids = info[1].As<Napi::Array>();
  std::vector<DomainRef> doms;
  doms.reserve(uuids.Length());
  for (uint32_t i = 0; i < uuids.Length(); ++i) {
    Napi::Value v = uuids.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), "uuids must be strings");
    virDomainPtr dom = virDomainLookupByUUIDString(conn.get(), v.As<Napi::String>().Utf8Value().c_str());
    if (dom == nullptr) {
      virErrorPtr err = virGetLastError();
      if (err != nullptr && err->code == VIR_ERR_NO_DOMAIN) continue;
      throw LibvirtFailure::Last("virDomainLookupByUUIDString");
    }
    doms.emplace_back(dom);
  }
  std::vector<virDomainPtr> raw;
  raw.reserve(doms.size() + 1);
  for (const DomainRef& d : doms) raw.push_back(d.get());
  raw.push_back(nullptr);  // the list is NULL-terminated
  StatsRecords owned;
  if (doms.empty()) return Napi::Array::New(info.Env(), 0);
  int count = virDomainListGetStats(raw.data(), FlagsArg(info, 2), &owned.records, FlagsArg(info, 3));
  if (count < 0) throw LibvirtFailure::Last("virDomainListGetStats");
  return RecordsToJs(info.Env(), owned, count);
}

Napi::Object BlockStatsOf(Napi::Env env, virDomainPtr dom, const std::string& path) {
  virDomainBlockStatsStruct s;
  if (virDomainBlockStats(dom, path.c_str(), &s, sizeof(s)) < 0) throw LibvirtFailure::Last("virDomainBlockStats");
  Napi::Object o = Napi::Object::New(env);
  o.Set("rdReq", static_cast<double>(s.rd_req));
  o.Set("rdBytes", static_cast<double>(s.rd_bytes));
  o.Set("wrReq", static_cast<double>(s.wr_req));
  o.Set("wrBytes", static_cast<double>(s.wr_bytes));
  o.Set("errs", static_cast<double>(s.errs));
  return o;
}

Napi::Object InterfaceStatsOf(Napi::Env env, virDomainPtr dom, const std::string& path) {
  virDomainInterfaceStatsStruct s;
  if (virDomainInterfaceStats(dom, path.c_str(), &s, sizeof(s)) < 0) {
    throw LibvirtFailure::Last("virDomainInterfaceStats");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("rxBytes", static_cast<double>(s.rx_bytes));
  o.Set("rxPackets", static_cast<double>(s.rx_packets));
  o.Set("rxErrs", static_cast<double>(s.rx_errs));
  o.Set("rxDrop", static_cast<double>(s.rx_drop));
  o.Set("txBytes", static_cast<double>(s.tx_bytes));
  o.Set("txPackets", static_cast<double>(s.tx_packets));
  o.Set("txErrs", static_cast<double>(s.tx_errs));
  o.Set("txDrop", static_cast<double>(s.tx_drop));
  return o;
}

const char* MemoryTagName(int tag) {
  switch (tag) {
    case VIR_DOMAIN_MEMORY_STAT_SWAP_IN: return "swap_in";
    case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT: return "swap_out";
    case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT: return "major_fault";
    case VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT: return "minor_fault";
    case VIR_DOMAIN_MEMORY_STAT_UNUSED: return "unused";
    case VIR_DOMAIN_MEMORY_STAT_AVAILABLE: return "available";
    case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON: return "actual";
    case VIR_DOMAIN_MEMORY_STAT_RSS: return "rss";
    case VIR_DOMAIN_MEMORY_STAT_USABLE: return "usable";
    case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE: return "last_update";
    case VIR_DOMAIN_MEMORY_STAT_DISK_CACHES: return "disk_caches";
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC: return "hugetlb_pgalloc";
    case VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL: return "hugetlb_pgfail";
    default: return nullptr;
  }
}

Napi::Object MemoryStatsOf(Napi::Env env, virDomainPtr dom) {
  virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
  int count = virDomainMemoryStats(dom, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0);
  if (count < 0) throw LibvirtFailure::Last("virDomainMemoryStats");
  Napi::Object o = Napi::Object::New(env);
  for (int i = 0; i < count; ++i) {
    const char* name = MemoryTagName(stats[i].tag);
    if (name != nullptr) o.Set(name, static_cast<double>(stats[i].val));
  }
  return o;
}

Napi::Value BlockStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  return BlockStatsOf(info.Env(), dom.get(), StringArg(info, 2, "path"));
}

Napi::Value InterfaceStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  return InterfaceStatsOf(info.Env(), dom.get(), StringArg(info, 2, "path"));
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  return MemoryStatsOf(info.Env(), dom.get());
}

std::vector<std::string> StringList(const Napi::CallbackInfo& info, size_t i, const char* what) {
  std::vector<std::string> out;
  if (info[i].IsUndefined()) return out;
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an array");
  Napi::Array a = info[i].As<Napi::Array>();
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must hold strings");
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
  return out;
}

// The per-domain sampling path in one crossing and one lookup: (conn, uuid, disks, nics) →
// the number of slots written to the scratch array, laid out as (see sample.ts):
//   [0..4] info: state, maxMemKiB, memoryKiB, vcpus, cpuTimeNs;  [5] active (0 or 1);
//   when active: 5 block counters per disk, 8 interface counters per NIC, then one slot per
//   memory stat tag (indexed by tag, NaN when the driver does not report it).
// Device and memory stats are taken only for an active domain (libvirt refuses them otherwise).
Napi::Value SampleDomain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonData& data = Data(env);
  ConnRef conn = AcquireArg(info);
  DomainRef dom = LookupDomain(conn.get(), StringArg(info, 1, "uuid"));
  std::vector<std::string> disks = StringList(info, 2, "disks");
  std::vector<std::string> nics = StringList(info, 3, "nics");
  const size_t needed = 6 + 5 * disks.size() + 8 * nics.size() + VIR_DOMAIN_MEMORY_STAT_NR;
  if (data.scratch == nullptr || needed > data.scratchLength) {
    throw Napi::RangeError::New(env, "too many devices for the scratch array");
  }
  double* out = data.scratch;
  virDomainInfo di;
  if (virDomainGetInfo(dom.get(), &di) < 0) throw LibvirtFailure::Last("virDomainGetInfo");
  // The handle carries the domain id from the lookup (-1 when inactive): what virDomainIsActive
  // would answer, without another call into the driver (an RPC on qemu:///system).
  const bool active = virDomainGetID(dom.get()) != static_cast<unsigned int>(-1);
  size_t n = 0;
  out[n++] = di.state;
  out[n++] = static_cast<double>(di.maxMem);
  out[n++] = static_cast<double>(di.memory);
  out[n++] = di.nrVirtCpu;
  out[n++] = static_cast<double>(di.cpuTime);
  out[n++] = active ? 1 : 0;
  if (!active) return Napi::Number::New(env, static_cast<double>(n));
  for (const std::string& disk : disks) {
    virDomainBlockStatsStruct s;
    if (virDomainBlockStats(dom.get(), disk.c_str(), &s, sizeof(s)) < 0) {
      throw LibvirtFailure::Last("virDomainBlockStats");
    }
    for (long long v : {s.rd_req, s.rd_bytes, s.wr_req, s.wr_bytes, s.errs}) out[n++] = static_cast<double>(v);
  }
  for (const std::string& nic : nics) {
    virDomainInterfaceStatsStruct s;
    if (virDomainInterfaceStats(dom.get(), nic.c_str(), &s, sizeof(s)) < 0) {
      throw LibvirtFailure::Last("virDomainInterfaceStats");
    }
    for (long long v : {s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop, s.tx_bytes, s.tx_packets, s.tx_errs, s.tx_drop}) {
      out[n++] = static_cast<double>(v);
    }
  }
  virDomainMemoryStatStruct mem[VIR_DOMAIN_MEMORY_STAT_NR];
  int count = virDomainMemoryStats(dom.get(), mem, VIR_DOMAIN_MEMORY_STAT_NR, 0);
  if (count < 0) throw LibvirtFailure::Last("virDomainMemoryStats");
  double* tags = out + n;
  for (int t = 0; t < VIR_DOMAIN_MEMORY_STAT_NR; ++t) tags[t] = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < count; ++i) {
    if (mem[i].tag >= 0 && mem[i].tag < VIR_DOMAIN_MEMORY_STAT_NR) tags[mem[i].tag] = static_cast<double>(mem[i].val);
  }
  n += VIR_DOMAIN_MEMORY_STAT_NR;
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void ExportStats(Napi::Env env, Napi::Object exports) {
  Export<AllDomainStats>(env, exports, "allDomainStats");
  Export<DomainListStats>(env, exports, "domainListStats");
  Export<BlockStats>(env, exports, "blockStats");
  Export<InterfaceStats>(env, exports, "interfaceStats");
  Export<MemoryStats>(env, exports, "memoryStats");
  Export<SampleDomain>(env, exports, "sampleDomain");
}

}  // namespace hv
