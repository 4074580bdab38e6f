// A libvirt failure captured as plain C++ data, so it can cross threads (AsyncWorker) and be
// turned into the JS LibvirtError later. libvirt keeps the last error per thread, and the
// free/close calls reset it, so it is copied at the point of failure, before any cleanup runs.
#pragma once

#include <exception>
#include <string>

#include <libvirt/virterror.h>

namespace hv {

class LibvirtFailure : public std::exception {
 public:
  LibvirtFailure(int code, int domain, int level, std::string message, std::string call)
      : code(code), domain(domain), level(level), message(std::move(message)), call(std::move(call)) {}

  // The calling thread's last libvirt error; `call` names the API that failed.
  static LibvirtFailure Last(const char* call) {
    virErrorPtr err = virGetLastError();
    if (err == nullptr || err->code == VIR_ERR_OK) {
      return LibvirtFailure(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, VIR_ERR_ERROR,
                            std::string(call) + " failed without an error from libvirt", call);
    }
    return LibvirtFailure(err->code, err->domain, err->level,
                          err->message != nullptr ? err->message : "unknown libvirt error", call);
  }

  const char* what() const noexcept override { return message.c_str(); }

  int code;
  int domain;
  int level;
  std::string message;
  std::string call;
};

}  // namespace hv
