/**
 * A VM and its status machine (vdsm's status strings).
 *
 * Status follows libvirt's lifecycle events, read in the light of what the daemon itself asked for
 * (a destroy or a shutdown we requested ends as an admin shutdown; one we did not, as the guest's own
 * or a lost QEMU). A freshly launched VM is "Powering up" until its guest agent answers or the
 * guest-agent timeout passes: a VM without an agent must not stay "Powering up" for ever.
 * Every change of status is handed to the `onStatus` callback with vdsm's StatusDetails.
 */
import type { DomainDescription, VcpuBandwidth, VmDevices } from './domain-xml.js';
import type { LifecycleEvent } from './libvirt/events.js';

export type VmStatus =
  | 'WaitForLaunch'
  | 'Powering up'
  | 'Up'
  | 'Paused'
  | 'Powering down'
  | 'RebootInProgress'
  | 'Down'
  | 'Migration Source'
  | 'Migration Destination'
  | 'Saving State'
  | 'Restoring state';

/** vdsm's vmexitreason codes and their messages. */
export const ExitReason = {
  SUCCESS: 0,
  GENERIC_ERROR: 1,
  LOST_QEMU_CONNECTION: 2,
  LIBVIRT_START_FAILED: 3,
  MIGRATION_SUCCEEDED: 4,
  SAVE_STATE_SUCCEEDED: 5,
  ADMIN_SHUTDOWN: 6,
  USER_SHUTDOWN: 7,
  MIGRATION_FAILED: 8,
  LIBVIRT_DOMAIN_MISSING: 9,
  DESTROYED_ON_STARTUP: 10,
  HOST_SHUTDOWN: 11,
  DESTROYED_ON_REBOOT: 13,
} as const;
export type ExitReasonCode = (typeof ExitReason)[keyof typeof ExitReason];

const EXIT_MESSAGES: Record<ExitReasonCode, string> = {
  0: 'VM exited normally',
  1: 'VM failed',
  2: 'Lost connection with qemu process',
  3: 'Failed to start the VM in libvirt',
  4: 'Migration succeeded',
  5: 'SaveState succeeded',
  6: 'Admin shut down from the engine',
  7: 'User shut down from within the guest',
  8: 'Migration failed',
  9: 'Failed to find the libvirt domain',
  10: 'VM destroyed during the startup',
  11: 'VM has been terminated on the host',
  13: 'Down as a part of the reboot process',
};

export const ExitCode = { NORMAL: 0, ERROR: 1 } as const;

export interface ExitInfo {
  exitCode: 0 | 1;
  exitReason: ExitReasonCode;
  exitMessage: string;
}

/** What a status change carries to subscribers (vdsm's StatusDetails, the fields we know). */
export interface StatusDetails {
  status: VmStatus;
  exitCode?: number;
  exitReason?: number;
  exitMessage?: string;
  pauseCode?: string;
  timeOffset?: string;
  elapsedTime?: string;
}

export type StatusListener = (vm: Vm, details: StatusDetails, previous: VmStatus) => void;

/** The API action in flight that explains the next lifecycle event. */
type Requested = 'destroy' | 'shutdown' | 'destroy-on-reboot' | undefined;

export class Vm {
  status: VmStatus;
  /** vdsm's event_time() at the last change, as the string the wire carries. */
  statusTime: string;
  exit: ExitInfo | undefined;
  pauseCode = 'NOERR';
  /** Monotonic seconds when the VM was last seen starting, for elapsedTime. */
  startedAt: number | undefined;
  /** Guest data merged from the guest agents (filled by the guest-agent part). */
  guest: Record<string, unknown> = {};
  guestResponsive = false;
  /** From the domain XML; empty until the VM has been described. */
  devices: VmDevices = { disks: [], nics: [], channels: [] };
  vcpus = 0;
  memoryKiB = 0;
  /** The guest clock's offset from UTC in seconds, and the digest of the devices (domain-xml.ts). */
  timeOffset = '0';
  devicesHash = '';
  /** A guest reboot ends this run (VM.setDestroyOnReboot). */
  destroyOnReboot = false;
  /** Each vCPU's CFS bandwidth when limited (VM.updateVmPolicy's vcpuLimit). */
  vcpuBandwidth: VcpuBandwidth | undefined;
  /** QEMU's process id; 0 while unknown. */
  pid = 0;
  /** A migration of this daemon runs it, and reports its end itself (migration/outgoing.ts). */
  migrationReportsEnd = false;
  /** A power-down chain is trying its methods after the first one (power-down.ts). */
  powerDownRunning = false;
  private requested: Requested;

  constructor(
    readonly id: string,
    public name: string,
    status: VmStatus,
    private readonly onStatus: StatusListener,
    private readonly clock: { eventTime(): number; monotonic(): number },
  ) {
    this.status = status;
    this.statusTime = String(clock.eventTime());
    if (status !== 'Down' && status !== 'WaitForLaunch') this.startedAt = clock.monotonic();
  }

  describe(domain: DomainDescription & { pid?: number }): void {
    this.name = domain.name;
    this.devices = domain.devices;
    this.vcpus = domain.vcpus;
    this.memoryKiB = domain.memoryKiB;
    this.timeOffset = domain.timeOffset;
    this.devicesHash = domain.devicesHash;
    this.destroyOnReboot = domain.destroyOnReboot;
    this.vcpuBandwidth = domain.vcpuBandwidth;
    if (domain.pid !== undefined) this.pid = domain.pid;
  }

  /** Running in the sense that matters for sampling: QEMU exists. */
  get running(): boolean {
    return this.status !== 'Down' && this.status !== 'WaitForLaunch';
  }

  /** Whether periodic per-VM work should look at it (vdsm's `monitorable`). */
  get monitorable(): boolean {
    return this.running && this.status !== 'Migration Destination' && this.status !== 'Restoring state';
  }

  elapsedSeconds(): number {
    return this.startedAt === undefined ? 0 : Math.floor(this.clock.monotonic() - this.startedAt);
  }

  expect(action: Requested): void {
    this.requested = action;
  }

  setStatus(status: VmStatus, extra: Omit<StatusDetails, 'status'> = {}): void {
    if (status === this.status && Object.keys(extra).length === 0) return;
    const previous = this.status;
    this.status = status;
    this.statusTime = String(this.clock.eventTime());
    if (status === 'Powering up' || (status === 'Up' && this.startedAt === undefined)) this.startedAt = this.clock.monotonic();
    const details: StatusDetails = { status, ...extra };
    if (status === 'Down') {
      this.startedAt = undefined;
      this.guestResponsive = false;
      // What belonged to this run of QEMU (live settings, the process) ends with it.
      this.pid = 0;
      this.destroyOnReboot = false;
      this.vcpuBandwidth = undefined;
    } else {
      this.exit = undefined;
    }
    this.onStatus(this, details, previous);
  }

  markDown(exit: ExitInfo): void {
    this.exit = exit;
    this.requested = undefined;
    this.setStatus('Down', { exitCode: exit.exitCode, exitReason: exit.exitReason, exitMessage: exit.exitMessage });
  }

  /** Applies a libvirt lifecycle event; `ioErrorReason` comes from the io-error event, if any. */
  applyLifecycle(event: LifecycleEvent, ioErrorReason?: string): void {
    switch (event.event) {
      case 'Started':
        // An arriving migration starts paused; its Resumed/Migrated is the arrival.
        if (this.status === 'Migration Destination') return;
        if (event.detail === 'Booted' && (this.status === 'WaitForLaunch' || this.status === 'Down')) this.setStatus('Powering up');
        else if (event.detail === 'Booted' && this.status === 'Powering up') return; // Resumed came first: still booting
        else if (this.status !== 'Up') this.setStatus('Up');
        return;
      case 'Suspended':
        if (event.detail === 'Migrated') return; // still migrating; the source keeps its status
        this.pauseCode = pauseCodeFor(event.detail, ioErrorReason);
        this.setStatus('Paused', { pauseCode: this.pauseCode });
        return;
      case 'Resumed':
        this.pauseCode = 'NOERR';
        // QEMU's CPUs start during the launch: on qemu:///system, Resumed/Unpaused comes before
        // Started/Booted. It is the boot, not a resume: the guest has not answered yet.
        if (this.status === 'WaitForLaunch' || this.status === 'Down') this.setStatus('Powering up');
        else this.setStatus('Up');
        return;
      case 'Shutdown':
        if (this.status !== 'Down') this.setStatus('Powering down');
        return;
      case 'Stopped':
        // Already Down: whoever ended the run (a destroy, a migration) said why first. A
        // migration of ours says it itself, once it has the outcome VM.getMigrationStatus reports.
        if (this.status === 'Down' || (this.migrationReportsEnd && event.detail === 'Migrated')) return;
        this.markDown(exitFor(event.detail, this.requested));
        return;
      default:
        // Defined, Undefined, PMSuspended, Crashed (a Stopped event follows): no status change.
        return;
    }
  }

  /** The guest agent answered: a VM powering up is up. */
  guestAnswered(): void {
    this.guestResponsive = true;
    if (this.status === 'Powering up') this.setStatus('Up');
  }

  /** Called on each sampling tick: an agent-less VM is up after the grace time. */
  checkPowerUp(graceSeconds: number): void {
    if (this.status === 'Powering up' && this.elapsedSeconds() >= graceSeconds) this.setStatus('Up');
  }

  /** The short status of Host.getVMList. */
  shortStatus(): { vmId: string; status: VmStatus; statusTime: string } {
    return { vmId: this.id, status: this.status, statusTime: this.statusTime };
  }
}

function pauseCodeFor(detail: string, ioErrorReason: string | undefined): string {
  // vdsm upper-cases libvirt's I/O error reason: eio → EIO, enospc → ENOSPC.
  if (detail === 'IOError') return (ioErrorReason || 'eio').toUpperCase();
  if (detail === 'PostCopy') return 'POSTCOPY';
  if (detail === 'APIError') return 'EOTHER';
  return 'NOERR';
}

export function exitInfo(exitCode: 0 | 1, exitReason: ExitReasonCode): ExitInfo {
  return { exitCode, exitReason, exitMessage: EXIT_MESSAGES[exitReason] };
}

function exitFor(detail: string, requested: Requested): ExitInfo {
  switch (detail) {
    case 'Shutdown':
      return exitInfo(ExitCode.NORMAL, requested ? ExitReason.ADMIN_SHUTDOWN : ExitReason.USER_SHUTDOWN);
    case 'Destroyed':
      if (requested === 'destroy-on-reboot') return exitInfo(ExitCode.NORMAL, ExitReason.DESTROYED_ON_REBOOT);
      return requested
        ? exitInfo(ExitCode.NORMAL, ExitReason.ADMIN_SHUTDOWN)
        : exitInfo(ExitCode.ERROR, ExitReason.LOST_QEMU_CONNECTION);
    case 'Migrated':
      return exitInfo(ExitCode.NORMAL, ExitReason.MIGRATION_SUCCEEDED);
    case 'Saved':
      return exitInfo(ExitCode.NORMAL, ExitReason.SAVE_STATE_SUCCEEDED);
    default: // Crashed, Failed, FromSnapshot
      return exitInfo(ExitCode.ERROR, ExitReason.GENERIC_ERROR);
  }
}
