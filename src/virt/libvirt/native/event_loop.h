// The process-wide thread that runs libvirt's default event loop (virEventRunDefaultImpl).
// libvirt dispatches domain events and connection-close notices from it. Start and Stop are
// counted, so several holders may share the thread; the last Stop ends it.
#pragma once

namespace hv {

// virInitialize + virEventRegisterDefaultImpl, once per process. libvirt wants the event
// implementation registered before any connection that will deliver events is opened.
void InitLibvirtOnce();

void StartEventLoop();
// Returns false when the thread did not finish within `timeoutMs` (it is then left detached).
bool StopEventLoop(int timeoutMs);
bool EventLoopRunning();

}  // namespace hv
