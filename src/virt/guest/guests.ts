/**
 * The guest agents as the API sees them: the oVirt agent of a running VM, and whether the QEMU
 * agent poller currently reaches the VM's QEMU agent.
 */
import type { GuestListener } from './listener.js';
import type { OvirtAgent } from './ovirt-agent.js';
import type { QemuAgentPoller } from './qemu-agent.js';

export interface GuestAgentsView {
  ovirt(vmId: string): OvirtAgent | undefined;
  qemuActive(vmId: string): boolean;
}

export class GuestAgents implements GuestAgentsView {
  constructor(
    private readonly listener: Pick<GuestListener, 'agent'>,
    private readonly poller: Pick<QemuAgentPoller, 'isActive'> | undefined,
  ) {}

  ovirt(vmId: string): OvirtAgent | undefined {
    return this.listener.agent(vmId);
  }

  qemuActive(vmId: string): boolean {
    return this.poller?.isActive(vmId) ?? false;
  }
}
