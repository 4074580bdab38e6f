// RAII owners of libvirt pointers, so every path (including a thrown failure) frees them at once
// instead of waiting for a JS garbage collection.
#pragma once

#include <cstdlib>
#include <string>

#include <libvirt/libvirt.h>

#include "failure.h"

namespace hv {

// One reference on a virConnectPtr (virConnectRef'd by the registry on hand-out).
class ConnRef {
 public:
  explicit ConnRef(virConnectPtr conn) : conn_(conn) {}
  ConnRef(const ConnRef&) = delete;
  ConnRef& operator=(const ConnRef&) = delete;
  ConnRef(ConnRef&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  ~ConnRef() {
    if (conn_ != nullptr) virConnectClose(conn_);
  }
  virConnectPtr get() const { return conn_; }

 private:
  virConnectPtr conn_;
};

class DomainRef {
 public:
  explicit DomainRef(virDomainPtr dom) : dom_(dom) {}
  DomainRef(const DomainRef&) = delete;
  DomainRef& operator=(const DomainRef&) = delete;
  DomainRef(DomainRef&& other) noexcept : dom_(other.dom_) { other.dom_ = nullptr; }
  ~DomainRef() {
    if (dom_ != nullptr) virDomainFree(dom_);
  }
  virDomainPtr get() const { return dom_; }

 private:
  virDomainPtr dom_;
};

// A string libvirt allocated for us.
class OwnedString {
 public:
  explicit OwnedString(char* s) : s_(s) {}
  OwnedString(const OwnedString&) = delete;
  OwnedString& operator=(const OwnedString&) = delete;
  ~OwnedString() { std::free(s_); }
  char* get() const { return s_; }

 private:
  char* s_;
};

inline DomainRef LookupDomain(virConnectPtr conn, const std::string& uuid) {
  virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid.c_str());
  if (dom == nullptr) throw LibvirtFailure::Last("virDomainLookupByUUIDString");
  return DomainRef(dom);
}

inline std::string DomainUuid(virDomainPtr dom) {
  char buf[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, buf) < 0) throw LibvirtFailure::Last("virDomainGetUUIDString");
  return buf;
}

}  // namespace hv
