#include "event_loop.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

namespace hv {

namespace {

// libvirt's default handler prints every error to stderr; errors reach JS as exceptions instead.
void QuietErrorHandler(void*, virErrorPtr) {}

struct Loop {
  std::mutex mutex;
  std::condition_variable exited;
  int holders = 0;
  bool done = true;
  std::atomic<bool> quit{false};
  // Heap-allocated and never destroyed while running: a joinable std::thread destroyed at
  // process exit would call std::terminate.
  std::thread* thread = nullptr;
};

Loop& TheLoop() {
  static auto* loop = new Loop();
  return *loop;
}

void Run(Loop* loop) {
  while (!loop->quit.load()) {
    if (virEventRunDefaultImpl() < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::lock_guard<std::mutex> lock(loop->mutex);
  loop->done = true;
  loop->exited.notify_all();
}

// A zero timeout fires on the next loop iteration; adding it also interrupts a poll() that
// would otherwise sleep until the next libvirt event, which may never come.
void WakeOnce(int timer, void*) { virEventRemoveTimeout(timer); }

}  // namespace

void InitLibvirtOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, QuietErrorHandler);
    virEventRegisterDefaultImpl();
  });
}

void StartEventLoop() {
  Loop& loop = TheLoop();
  std::lock_guard<std::mutex> lock(loop.mutex);
  if (loop.holders++ > 0) return;
  loop.quit = false;
  // A thread that outlived an earlier stop's timeout is still looping; it carries on.
  if (!loop.done) return;
  loop.done = false;
  loop.thread = new std::thread(Run, &loop);
}

bool StopEventLoop(int timeoutMs) {
  Loop& loop = TheLoop();
  std::unique_lock<std::mutex> lock(loop.mutex);
  if (loop.holders == 0) return true;
  if (--loop.holders > 0) return true;
  std::thread* thread = loop.thread;
  loop.thread = nullptr;
  loop.quit = true;
  virEventAddTimeout(0, WakeOnce, nullptr, nullptr);
  bool finished = loop.exited.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return loop.done; });
  lock.unlock();
  if (thread != nullptr) {
    if (finished) {
      thread->join();
    } else {
      thread->detach();
    }
    delete thread;
  }
  return finished;
}

bool EventLoopRunning() {
  Loop& loop = TheLoop();
  std::lock_guard<std::mutex> lock(loop.mutex);
  return !loop.done;
}

}  // namespace hv
