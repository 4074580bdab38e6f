// Where libvirt events go: one JS callback on the thread that subscribed, reached through a
// thread-safe function. Events are posted from libvirt's event-loop thread (domain events,
// connection close) or from any thread (the simulated drop), and arrive in posting order.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <libvirt/libvirt.h>
#include <napi.h>

namespace hv {

struct EventRecord {
  enum class Kind { Lifecycle, Reboot, IoError, AgentLifecycle, DeviceChanged, ConnectionClosed, ConnectionReopened };
  // DeviceChanged's `first`.
  enum DeviceChange { kDeviceAdded = 0, kDeviceRemoved = 1, kTrayChanged = 2 };
  Kind kind;
  std::string uuid;
  std::string name;
  // Lifecycle: event, detail. IoError: action. AgentLifecycle: state, reason.
  // DeviceChanged: a DeviceChange (devAlias names the device). ConnectionClosed: reason.
  int first = 0;
  int second = 0;
  std::string srcPath;
  std::string devAlias;
  std::string reason;
};

void DeliverEvent(Napi::Env env, Napi::Function callback, std::nullptr_t* context, EventRecord* record);
using EventTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, EventRecord, DeliverEvent>;

class EventSink {
 public:
  EventSink() = default;
  // Once, before the sink is subscribed.
  void Attach(EventTsfn tsfn) { tsfn_ = tsfn; }

  // Any thread. Dropped silently once released (a callback can race with unsubscribe).
  void Post(EventRecord record);
  // Idempotent; later posts are dropped. Called on unsubscribe and when the thread-safe
  // function is finalized (its environment may be torn down before anyone unsubscribes).
  void Release();
  // The thread-safe function is gone (finalized by its environment): stop using it.
  void Finalized();

  // libvirt callback ids on the current connection; guarded by the SharedConnection's
  // structure lock.
  std::vector<int> callbackIds;

 private:
  std::mutex mutex_;
  bool released_ = false;
  EventTsfn tsfn_;
};

// Registers the domain events we deliver (lifecycle, reboot, I/O error, agent lifecycle) on
// `conn` for `sink`; fills sink->callbackIds. Throws LibvirtFailure, leaving none registered.
void RegisterDomainEvents(virConnectPtr conn, const std::shared_ptr<EventSink>& sink);
// Best effort: a dead connection may refuse, and then its callbacks die with it.
void DeregisterDomainEvents(virConnectPtr conn, EventSink& sink);

}  // namespace hv
