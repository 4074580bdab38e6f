// One libvirt connection per URI for the whole process, shared by the main thread and every
// worker thread (libvirt connections are thread-safe). The test driver keeps its state per
// connection, so sharing is also what makes every thread see the same domains.
//
// Holders keep a std::shared_ptr; the last one gone closes the connection. A connection that
// libvirt reports closed (close callback) or that a test drops on purpose becomes "broken":
// calls fail with a typed error until Open() reopens it and re-registers the event sinks.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <libvirt/libvirt.h>

#include "event_sink.h"
#include "handles.h"

namespace hv {

class SharedConnection : public std::enable_shared_from_this<SharedConnection> {
 public:
  // The process-wide connection for `uri`, created (not yet opened) when nobody holds one.
  static std::shared_ptr<SharedConnection> ForUri(const std::string& uri);

  explicit SharedConnection(std::string uri) : uri_(std::move(uri)) {}
  ~SharedConnection();
  SharedConnection(const SharedConnection&) = delete;
  SharedConnection& operator=(const SharedConnection&) = delete;

  const std::string& uri() const { return uri_; }

  // A reference for one call. Opens on first use; throws LibvirtFailure when broken.
  ConnRef Acquire();
  // Opens, or reopens a broken connection (blocking). No-op when open.
  void Open();
  bool IsOpen();
  // As if libvirt had reported the connection closed with `reason` (virConnectCloseReason).
  void MarkBroken(int reason);

  void Subscribe(const std::shared_ptr<EventSink>& sink);
  void Unsubscribe(const std::shared_ptr<EventSink>& sink);

 private:
  void OpenLocked();  // with structure_ held
  std::vector<std::shared_ptr<EventSink>> Sinks();
  void Broadcast(const EventRecord& record);

  const std::string uri_;
  std::mutex structure_;  // serialises open, reopen, subscribe and unsubscribe
  std::mutex state_;      // guards conn_ and broken_ (the per-call fast path)
  virConnectPtr conn_ = nullptr;
  bool broken_ = false;
  std::mutex sinksMutex_;  // guards sinks_; never held across a libvirt call
  std::vector<std::shared_ptr<EventSink>> sinks_;
};

}  // namespace hv
