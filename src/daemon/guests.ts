/**
 * The guest agents of every VM: the oVirt agents' channels (one listener for all sockets), the
 * QEMU agent poller and its Operation, and the view the API reads them through.
 */
import { Operation, type Executor, type Scheduler } from '../concurrency/index.js';
import type { Part } from '../lifecycle.js';
import { getLogger } from '../log.js';
import { GuestData } from '../virt/guest/guest-data.js';
import { GuestAgents } from '../virt/guest/guests.js';
import { GuestListener } from '../virt/guest/listener.js';
import { QemuAgentPoller } from '../virt/guest/qemu-agent.js';
import type { VmRegistry } from '../virt/registry.js';
import type { GuestSettings } from './settings.js';

export interface Guests {
  readonly agents: GuestAgents;
  /** Listens to the oVirt agents' channels. */
  readonly part: Part;
  readonly qgaOperation: Operation;
}

export function buildGuests(settings: GuestSettings, registry: VmRegistry, qga: Executor, scheduler: Scheduler): Guests {
  const data = new GuestData(registry);
  const listener = new GuestListener({
    vms: registry,
    data,
    channelsDir: settings.channelsDir,
    staleAfter: settings.staleAfter,
    log: getLogger('guest-channels'),
  });
  const poller = new QemuAgentPoller({
    uri: settings.uri,
    vms: registry,
    data,
    commandTimeout: settings.qgaCommandTimeout,
    tick: settings.qgaPollingPeriod,
    log: getLogger('qga-poller'),
  });
  const qgaOperation = new Operation(poller.poll, settings.qgaPollingPeriod, scheduler, {
    name: 'qga-poller',
    exclusive: true,
    executor: qga,
    timeout: settings.qgaTaskTimeout,
  });
  const part: Part = { name: 'guests', start: () => listener.start(), stop: () => listener.stop() };
  return { agents: new GuestAgents(listener, poller), part, qgaOperation };
}
