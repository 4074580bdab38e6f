#include "event_sink.h"

#include "failure.h"
#include "handles.h"

namespace hv {

namespace {

// libvirt owns one of these per registration and frees it through FreeBox once the callback
// can no longer run, so the sink outlives every callback that may still be in flight.
using SinkBox = std::shared_ptr<EventSink>;

void FreeBox(void* opaque) { delete static_cast<SinkBox*>(opaque); }

EventRecord About(EventRecord::Kind kind, virDomainPtr dom) {
  EventRecord rec{kind, "", "", 0, 0, "", "", ""};
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) == 0) rec.uuid = uuid;
  const char* name = virDomainGetName(dom);
  if (name != nullptr) rec.name = name;
  return rec;
}

int OnLifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  EventRecord rec = About(EventRecord::Kind::Lifecycle, dom);
  rec.first = event;
  rec.second = detail;
  (*static_cast<SinkBox*>(opaque))->Post(std::move(rec));
  return 0;
}

void OnReboot(virConnectPtr, virDomainPtr dom, void* opaque) {
  (*static_cast<SinkBox*>(opaque))->Post(About(EventRecord::Kind::Reboot, dom));
}

void OnIoError(virConnectPtr, virDomainPtr dom, const char* srcPath, const char* devAlias, int action,
               const char* reason, void* opaque) {
  EventRecord rec = About(EventRecord::Kind::IoError, dom);
  rec.first = action;
  rec.srcPath = srcPath != nullptr ? srcPath : "";
  rec.devAlias = devAlias != nullptr ? devAlias : "";
  rec.reason = reason != nullptr ? reason : "";
  (*static_cast<SinkBox*>(opaque))->Post(std::move(rec));
}

void OnAgentLifecycle(virConnectPtr, virDomainPtr dom, int state, int reason, void* opaque) {
  EventRecord rec = About(EventRecord::Kind::AgentLifecycle, dom);
  rec.first = state;
  rec.second = reason;
  (*static_cast<SinkBox*>(opaque))->Post(std::move(rec));
}

void PostDeviceChange(virDomainPtr dom, const char* devAlias, int change, void* opaque) {
  EventRecord rec = About(EventRecord::Kind::DeviceChanged, dom);
  rec.first = change;
  rec.devAlias = devAlias != nullptr ? devAlias : "";
  (*static_cast<SinkBox*>(opaque))->Post(std::move(rec));
}

void OnDeviceAdded(virConnectPtr, virDomainPtr dom, const char* devAlias, void* opaque) {
  PostDeviceChange(dom, devAlias, EventRecord::kDeviceAdded, opaque);
}

void OnDeviceRemoved(virConnectPtr, virDomainPtr dom, const char* devAlias, void* opaque) {
  PostDeviceChange(dom, devAlias, EventRecord::kDeviceRemoved, opaque);
}

void OnTrayChange(virConnectPtr, virDomainPtr dom, const char* devAlias, int, void* opaque) {
  PostDeviceChange(dom, devAlias, EventRecord::kTrayChanged, opaque);
}

struct Registration {
  int eventId;
  virConnectDomainEventGenericCallback callback;
};

const Registration kRegistrations[] = {
    {VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnLifecycle)},
    {VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(OnReboot)},
    {VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK(OnIoError)},
    {VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(OnAgentLifecycle)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceAdded)},
    {VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK(OnDeviceRemoved)},
    {VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, VIR_DOMAIN_EVENT_CALLBACK(OnTrayChange)},
};

}  // namespace

void EventSink::Post(EventRecord record) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (released_) return;
  auto* heap = new EventRecord(std::move(record));
  if (tsfn_.NonBlockingCall(heap) != napi_ok) delete heap;
}

void EventSink::Release() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (released_) return;
  released_ = true;
  tsfn_.Release();
}

void EventSink::Finalized() {
  std::lock_guard<std::mutex> lock(mutex_);
  released_ = true;
}

void RegisterDomainEvents(virConnectPtr conn, const std::shared_ptr<EventSink>& sink) {
  for (const Registration& r : kRegistrations) {
    auto* box = new SinkBox(sink);
    int id = virConnectDomainEventRegisterAny(conn, nullptr, r.eventId, r.callback, box, FreeBox);
    if (id < 0) {
      LibvirtFailure failure = LibvirtFailure::Last("virConnectDomainEventRegisterAny");
      // libvirt did not keep the box on failure.
      delete box;
      DeregisterDomainEvents(conn, *sink);
      throw failure;
    }
    sink->callbackIds.push_back(id);
  }
}

void DeregisterDomainEvents(virConnectPtr conn, EventSink& sink) {
  for (int id : sink.callbackIds) virConnectDomainEventDeregisterAny(conn, id);
  sink.callbackIds.clear();
}

void DeliverEvent(Napi::Env env, Napi::Function callback, std::nullptr_t*, EventRecord* record) {
  std::unique_ptr<EventRecord> rec(record);
  if (env == nullptr || callback.IsEmpty()) return;
  Napi::Object o = Napi::Object::New(env);
  switch (rec->kind) {
    case EventRecord::Kind::Lifecycle:
      o.Set("kind", "lifecycle");
      o.Set("event", rec->first);
      o.Set("detail", rec->second);
      break;
    case EventRecord::Kind::Reboot:
      o.Set("kind", "reboot");
      break;
    case EventRecord::Kind::IoError:
      o.Set("kind", "io-error");
      o.Set("action", rec->first);
      o.Set("srcPath", rec->srcPath);
      o.Set("devAlias", rec->devAlias);
      o.Set("reason", rec->reason);
      break;
    case EventRecord::Kind::AgentLifecycle:
      o.Set("kind", "agent-lifecycle");
      o.Set("state", rec->first);
      o.Set("reason", rec->second);
      break;
    case EventRecord::Kind::DeviceChanged:
      o.Set("kind", "device-changed");
      o.Set("change", rec->first);
      o.Set("devAlias", rec->devAlias);
      break;
    case EventRecord::Kind::ConnectionClosed:
      o.Set("kind", "connection-closed");
      o.Set("reason", rec->first);
      break;
    case EventRecord::Kind::ConnectionReopened:
      o.Set("kind", "connection-reopened");
      break;
  }
  if (!rec->uuid.empty()) o.Set("uuid", rec->uuid);
  if (!rec->name.empty()) o.Set("name", rec->name);
  try {
    callback.Call({o});
  } catch (const Napi::Error&) {
    // The TS face catches and logs listener errors; nothing useful is left to do here, and an
    // exception must not escape into the thread-safe function's dispatch.
  }
}

}  // namespace hv
