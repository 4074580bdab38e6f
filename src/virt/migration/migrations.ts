/**
 * The migrations of this host, both ways: the VM verbs' entry point. Outgoing ones are kept by
 * VM id after they end, so VM.getMigrationStatus can say how the last one ended; a VM migrates
 * away once at a time. Incoming ones are the destination's (incoming.ts).
 */
import type { Vm } from '../vm.js';
import { MigrationError, MigrationErrorCode } from './errors.js';
import { IncomingMigrations } from './incoming.js';
import { OutgoingMigration, type OutgoingDeps, type OutgoingSettings } from './outgoing.js';
import { RecoveredMigration } from './recovered.js';
import { outgoingRequest } from './request.js';
import { Slots } from './slots.js';

export interface MigrationsOptions {
  outgoing: Omit<OutgoingDeps, 'slot'>;
  outgoingSettings: OutgoingSettings;
  maxOutgoing: number;
  incoming: IncomingMigrations;
  /** The management port: the destination's when the engine's dst names none. */
  defaultPort: number;
}

export class Migrations {
  /** By VM id: the running or last migration away, started here or found at recovery. */
  private readonly outgoing = new Map<string, OutgoingMigration | RecoveredMigration>();
  private readonly slots: Slots;

  constructor(private readonly options: MigrationsOptions) {
    this.slots = new Slots(options.maxOutgoing);
  }

  get incoming(): IncomingMigrations {
    return this.options.incoming;
  }

  /** VM.migrate: starts the migration and returns at once; refuses a second one of the same VM. */
  migrate(vm: Vm, params: Record<string, unknown>): OutgoingMigration {
    const current = this.outgoing.get(vm.id);
    if (current && !current.ended) throw new MigrationError(MigrationErrorCode.migrateErr, 'the VM is already migrating');
    if (vm.status !== 'Up' && vm.status !== 'Paused') throw new MigrationError(MigrationErrorCode.migrateErr, `a VM that is ${vm.status} cannot migrate`);
    const request = outgoingRequest(params, this.options.defaultPort);
    if (request.outgoingLimit !== undefined) this.slots.setBound(request.outgoingLimit);
    const migration = new OutgoingMigration(vm, request, { ...this.options.outgoing, slot: (signal) => this.slots.acquire(signal) }, this.options.outgoingSettings);
    this.outgoing.set(vm.id, migration);
    return migration;
  }

  /** VM.getMigrationStatus: the running or last migration from this host; a failed one answers its error. */
  status(vmId: string): ReturnType<OutgoingMigration['report']> {
    const migration = this.outgoing.get(vmId);
    if (migration === undefined) throw new MigrationError(MigrationErrorCode.migNotInProgress, 'the VM has not migrated from this host');
    if (migration.error) throw migration.error;
    return migration.report();
  }

  /** VM.migrateCancel. */
  cancel(vmId: string): Promise<void> {
    const migration = this.outgoing.get(vmId);
    if (migration === undefined) return Promise.reject(new MigrationError(MigrationErrorCode.migCancelErr, 'the VM is not migrating'));
    return migration.cancelMigration();
  }

  /** VM.migrateChangeParams. */
  setBandwidth(vmId: string, mibPerSecond: number): Promise<void> {
    const migration = this.outgoing.get(vmId);
    if (migration === undefined) return Promise.reject(new MigrationError(MigrationErrorCode.migNotInProgress, 'the VM is not migrating'));
    return migration.setBandwidth(mibPerSecond);
  }

  /**
   * A VM recovery found migrating away (the daemon restarted in the middle): libvirt's job is
   * followed (recovered.ts), and the migration's status, cancel and bandwidth answer from it.
   */
  watchRecovered(vm: Vm): void {
    this.outgoing.set(vm.id, new RecoveredMigration(vm, this.options.outgoing, this.options.outgoingSettings.monitorIntervalSeconds));
  }

  /** Forgets a removed VM's migration. */
  forget(vmId: string): void {
    if (this.outgoing.get(vmId)?.ended) this.outgoing.delete(vmId);
  }
}
