/**
 * The VM registry: one Vm per libvirt domain, on the main thread. It is fed by libvirt's domain
 * events and by the verbs, and turns every status change into a `|virt|VM_status|<vmId>` event.
 * A domain we have never seen that starts (defined outside hostvisor) is adopted, so nothing
 * running on the host is invisible to the engine.
 */
import type { DomainEvent } from './libvirt/events.js';
import { Vm, type StatusDetails, type VmStatus } from './vm.js';

/** Where status changes go: the events bus, in production. */
export interface StatusSink {
  emit(namespace: string, event: string, id: string, params: Record<string, unknown>): unknown;
}

export interface RegistryClock {
  eventTime(): number;
  monotonic(): number;
}

export interface VmCountsView {
  vmCount: number;
  vmActive: number;
  vmMigrating: number;
  incomingVmMigrations: number;
  outgoingVmMigrations: number;
}

export class VmRegistry {
  private readonly vms = new Map<string, Vm>();
  /** The last I/O error reason per VM, so the Suspended/IOError event that follows carries it. */
  private readonly ioErrors = new Map<string, string>();
  private readonly addedListeners = new Set<(vm: Vm) => void>();
  private readonly removedListeners = new Set<(vm: Vm) => void>();
  private readonly startedListeners = new Set<(vm: Vm) => void>();
  private readonly statusListeners = new Set<(vm: Vm) => void>();

  constructor(
    private readonly sink: StatusSink,
    private readonly clock: RegistryClock,
  ) {}

  get(vmId: string): Vm | undefined {
    return this.vms.get(vmId);
  }

  all(): IterableIterator<Vm> {
    return this.vms.values();
  }

  get size(): number {
    return this.vms.size;
  }

  /** Registers a VM; a status of anything but Down/WaitForLaunch means it is running now. */
  add(vmId: string, name: string, status: VmStatus): Vm {
    const existing = this.vms.get(vmId);
    if (existing) return existing;
    const vm = new Vm(vmId, name, status, (v, details, previous) => this.publish(v, details, previous), this.clock);
    this.vms.set(vmId, vm);
    for (const listener of this.addedListeners) listener(vm);
    return vm;
  }

  remove(vmId: string): void {
    const vm = this.vms.get(vmId);
    if (!vm) return;
    this.vms.delete(vmId);
    this.ioErrors.delete(vmId);
    for (const listener of this.removedListeners) listener(vm);
  }

  onAdded(listener: (vm: Vm) => void): () => void {
    this.addedListeners.add(listener);
    return () => this.addedListeners.delete(listener);
  }

  onRemoved(listener: (vm: Vm) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /** Any status change of any VM (after its VM_status event went out). */
  onStatus(listener: (vm: Vm) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** A known VM that was not running runs again (started after being Down). */
  onStarted(listener: (vm: Vm) => void): () => void {
    this.startedListeners.add(listener);
    return () => this.startedListeners.delete(listener);
  }

  handleEvent(event: DomainEvent): void {
    if (event.kind === 'io-error') {
      this.ioErrors.set(event.uuid, event.reason);
      return;
    }
    if (event.kind !== 'lifecycle') return;
    let vm = this.vms.get(event.uuid);
    if (!vm) {
      // Adopt a domain started behind our back; ignore definitions of domains that are not running.
      if (event.event !== 'Started' && event.event !== 'Resumed') return;
      vm = this.add(event.uuid, event.name, 'WaitForLaunch');
    }
    vm.applyLifecycle(event, this.ioErrors.get(event.uuid));
    if (event.event === 'Resumed' || event.event === 'Started') this.ioErrors.delete(event.uuid);
  }

  counts(): VmCountsView {
    let vmActive = 0;
    let outgoing = 0;
    let incoming = 0;
    for (const vm of this.vms.values()) {
      if (vm.running) vmActive++;
      if (vm.status === 'Migration Source') outgoing++;
      if (vm.status === 'Migration Destination') incoming++;
    }
    return { vmCount: this.vms.size, vmActive, vmMigrating: outgoing + incoming, incomingVmMigrations: incoming, outgoingVmMigrations: outgoing };
  }

  private publish(vm: Vm, details: StatusDetails, previous: VmStatus): void {
    this.sink.emit('virt', 'VM_status', vm.id, { [vm.id]: details });
    for (const listener of this.statusListeners) listener(vm);
    if (previous === 'Down' && vm.running) for (const listener of this.startedListeners) listener(vm);
  }
}
