#include "shared_connection.h"

#include <algorithm>
#include <map>

namespace hv {

namespace {

std::mutex registryMutex;
std::map<std::string, std::weak_ptr<SharedConnection>>& Registry() {
  // Leaked on purpose: worker threads may still drop references during process exit.
  static auto* registry = new std::map<std::string, std::weak_ptr<SharedConnection>>();
  return *registry;
}

using WeakBox = std::weak_ptr<SharedConnection>;
void FreeWeakBox(void* opaque) { delete static_cast<WeakBox*>(opaque); }

void OnConnectionClosed(virConnectPtr, int reason, void* opaque) {
  if (auto self = static_cast<WeakBox*>(opaque)->lock()) self->MarkBroken(reason);
}

// Unhooks and drops a connection we no longer use. Errors are expected on a dead one.
void Discard(virConnectPtr conn, const std::vector<std::shared_ptr<EventSink>>& sinks) {
  for (const auto& sink : sinks) DeregisterDomainEvents(conn, *sink);
  virConnectUnregisterCloseCallback(conn, OnConnectionClosed);
  virConnectClose(conn);
}

}  // namespace

std::shared_ptr<SharedConnection> SharedConnection::ForUri(const std::string& uri) {
  std::lock_guard<std::mutex> lock(registryMutex);
  auto& registry = Registry();
  auto it = registry.find(uri);
  if (it != registry.end()) {
    if (auto existing = it->second.lock()) return existing;
  }
  auto created = std::make_shared<SharedConnection>(uri);
  registry[uri] = created;
  return created;
}

SharedConnection::~SharedConnection() {
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    auto& registry = Registry();
    auto it = registry.find(uri_);
    if (it != registry.end() && it->second.expired()) registry.erase(it);
  }
  if (conn_ != nullptr) Discard(conn_, {});
}

ConnRef SharedConnection::Acquire() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(state_);
      if (broken_) {
        throw LibvirtFailure(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, VIR_ERR_ERROR,
                             "connection to " + uri_ + " was closed and is not reopened yet", "acquire");
      }
      if (conn_ != nullptr) {
        virConnectRef(conn_);
        return ConnRef(conn_);
      }
    }
    Open();
  }
  throw LibvirtFailure(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, VIR_ERR_ERROR, "connection to " + uri_ + " is not open",
                       "acquire");
}

void SharedConnection::Open() {
  std::lock_guard<std::mutex> structure(structure_);
  OpenLocked();
}

void SharedConnection::OpenLocked() {
  virConnectPtr old = nullptr;
  {
    std::lock_guard<std::mutex> lock(state_);
    if (conn_ != nullptr && !broken_) return;
    old = conn_;
    conn_ = nullptr;
  }
  const bool reopening = old != nullptr;
  std::vector<std::shared_ptr<EventSink>> sinks = Sinks();
  if (old != nullptr) Discard(old, sinks);

  virConnectPtr conn = virConnectOpen(uri_.c_str());
  if (conn == nullptr) throw LibvirtFailure::Last("virConnectOpen");
  // Not every driver reports closes (the test driver never closes); failing to register is fine.
  auto* box = new WeakBox(weak_from_this());
  if (virConnectRegisterCloseCallback(conn, OnConnectionClosed, box, FreeWeakBox) < 0) delete box;
  try {
    for (const auto& sink : sinks) RegisterDomainEvents(conn, sink);
  } catch (...) {
    Discard(conn, sinks);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(state_);
    conn_ = conn;
    broken_ = false;
  }
  if (reopening) Broadcast(EventRecord{EventRecord::Kind::ConnectionReopened, "", "", 0, 0, "", "", ""});
}

bool SharedConnection::IsOpen() {
  std::lock_guard<std::mutex> lock(state_);
  return conn_ != nullptr && !broken_;
}

void SharedConnection::MarkBroken(int reason) {
  {
    std::lock_guard<std::mutex> lock(state_);
    if (conn_ == nullptr || broken_) return;
    broken_ = true;
  }
  Broadcast(EventRecord{EventRecord::Kind::ConnectionClosed, "", "", reason, 0, "", "", ""});
}

void SharedConnection::Subscribe(const std::shared_ptr<EventSink>& sink) {
  std::lock_guard<std::mutex> structure(structure_);
  virConnectPtr conn = nullptr;
  {
    std::lock_guard<std::mutex> lock(state_);
    if (broken_) throw LibvirtFailure(VIR_ERR_NO_CONNECT, VIR_FROM_NONE, VIR_ERR_ERROR,
                                      "connection to " + uri_ + " was closed and is not reopened yet", "subscribe");
    conn = conn_;
  }
  if (conn == nullptr) {
    OpenLocked();
    std::lock_guard<std::mutex> lock(state_);
    conn = conn_;
  }
  // structure_ keeps conn_ from being swapped or closed until we are done.
  RegisterDomainEvents(conn, sink);
  std::lock_guard<std::mutex> lock(sinksMutex_);
  sinks_.push_back(sink);
}

void SharedConnection::Unsubscribe(const std::shared_ptr<EventSink>& sink) {
  std::lock_guard<std::mutex> structure(structure_);
  {
    std::lock_guard<std::mutex> lock(sinksMutex_);
    sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
  }
  virConnectPtr conn = nullptr;
  {
    std::lock_guard<std::mutex> lock(state_);
    conn = conn_;
    if (conn != nullptr) virConnectRef(conn);
  }
  if (conn != nullptr) {
    DeregisterDomainEvents(conn, *sink);
    virConnectClose(conn);
  }
}

std::vector<std::shared_ptr<EventSink>> SharedConnection::Sinks() {
  std::lock_guard<std::mutex> lock(sinksMutex_);
  return sinks_;
}

void SharedConnection::Broadcast(const EventRecord& record) {
  for (const auto& sink : Sinks()) sink->Post(record);
}

}  // namespace hv
