// Process-level calls the daemon needs and Node lacks: a hard exit, systemd's notify protocol
// (a datagram on the unix socket in $NOTIFY_SOCKET; Node's dgram has no unix datagram sockets), and
// the credentials of a unix socket's peer (SO_PEERCRED: the kernel's word, not the client's).
#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "exports.h"

namespace hv {

namespace {

// Ends the process at once, skipping exit handlers. Node's own exit joins every worker thread, and
// a worker stuck in a system call (a hung libvirt or NFS call) never joins: this is the way out.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1);
}

// sd_notify(3) without libsystemd: returns false when not run by systemd (no NOTIFY_SOCKET).
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "state must be a string");
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return Napi::Boolean::New(env, false);
  size_t len = std::strlen(path);
  sockaddr_un addr{};
  if (len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) return Napi::Boolean::New(env, false);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Napi::Boolean::New(env, false);
  std::string state = info[0].As<Napi::String>().Utf8Value();
  ssize_t sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
  close(fd);
  return Napi::Boolean::New(env, sent == static_cast<ssize_t>(state.size()));
}

// {pid, uid, gid} of the process at the other end of a connected unix socket, as the kernel
// recorded them when it connected.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "fd must be a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw Napi::Error::New(env, std::string("SO_PEERCRED: ") + std::strerror(errno));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace

void ExportProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("exitNow", Napi::Function::New(env, ExitNow, "exitNow"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace hv
