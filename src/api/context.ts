/**
 * What the API's handlers work with: the VM registry and cached stats on the main thread, and
 * an executor for everything that touches libvirt. The daemon builds one and hands it to the
 * method table; handlers never reach past it.
 */
import type { TaskDispatcher } from '../concurrency/index.js';
import type { Helper } from '../helper/client.js';
import type { LogLevel } from '../config/schema.js';
import type { GuestAgentsView } from '../virt/guest/guests.js';
import type { HostCapabilities } from '../virt/host/capabilities.js';
import type { PackageVersion } from '../virt/host/caps/packages.js';
import type { MemoryPolicy } from '../virt/host/memory-policy.js';
import type { HostMonitor } from '../virt/host/monitor.js';
import type { JobRegistry } from '../virt/jobs.js';
import type { Migrations } from '../virt/migration/migrations.js';
import type { VmRegistry } from '../virt/registry.js';
import type { Vm } from '../virt/vm.js';

export interface ApiContext {
  /** The hypervisor URI the workers connect to. */
  readonly uri: string;
  /** The `rpc` executor: libvirt verbs run there, never on the main thread. */
  readonly rpc: TaskDispatcher;
  /** Seconds a libvirt verb may take before the request fails (its worker is replaced). */
  readonly verbTimeout: number;
  readonly registry: VmRegistry;
  readonly host: HostMonitor;
  /** The host's capabilities as last gathered. */
  readonly capabilities: HostCapabilities;
  /** The engine's memory-overcommit policy (Host.setMOMPolicyParameters). */
  readonly memoryPolicy: MemoryPolicy;
  /** Live migrations from and to this host. */
  readonly migrations: Migrations;
  /** Long-running work the engine follows (Host.getJobs). */
  readonly jobs: JobRegistry;
  /** The VM stats element, from the stats cache. */
  vmStats(vm: Vm): Record<string, unknown>;
  setLogLevel(level: LogLevel): void;
  /** This daemon as a package, for capabilities. */
  readonly agent: PackageVersion;
  /** The privileged helper: network setups, KSM, root-only host facts. */
  readonly helper: Helper;
  /** The guest agents; without them VM.shutdown goes straight to ACPI. */
  readonly guests?: GuestAgentsView;
}
