/**
 * Live migration's part of the daemon: the Migrations of virt/migration with their real
 * dependencies. The destination's daemon is reached with the daemon's own transport security
 * (its certificate as the client's under TLS); every libvirt call runs on the rpc pool, the
 * migration itself with no timeout (it takes as long as the guest's memory takes to move).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { JsonRpcClient } from '../client/jsonrpc-client.js';
import type { TaskDispatcher } from '../concurrency/index.js';
import type { Logger } from '../log.js';
import { callVerb, type LibvirtVerb, type VerbResult, type VerbTask } from '../tasks/libvirt.js';
import { vmTasks } from '../tasks/vm.js';
import type { HostMonitor } from '../virt/host/monitor.js';
import type { JobRegistry } from '../virt/jobs.js';
import { JobStatsFlags, XmlFlags } from '../virt/libvirt/constants.js';
import { LibvirtError } from '../virt/libvirt/errors.js';
import { stepSchedule } from '../virt/migration/convergence.js';
import { MigrationError, MigrationErrorCode } from '../virt/migration/errors.js';
import { IncomingMigrations } from '../virt/migration/incoming.js';
import { Migrations } from '../virt/migration/migrations.js';
import type { MigrationLibvirt, PeerConnection } from '../virt/migration/outgoing.js';
import type { MigrationSettings } from './settings.js';
import type { Vms } from './vms.js';

export interface MigrationSources {
  vms: Vms;
  host: HostMonitor;
  rpc: TaskDispatcher;
  jobs: JobRegistry;
  log: Logger;
}

export function buildMigrations(settings: MigrationSettings, sources: MigrationSources): Migrations {
  const { vms, host, rpc, jobs, log } = sources;
  const call = <V extends LibvirtVerb>(verb: V, args: VerbTask<V>['args'], timeout: number | null = settings.verbTimeout): Promise<VerbResult<V>> =>
    callVerb(rpc, { uri: settings.uri, verb, args }, { timeout, discard: timeout !== null });
  const libvirt: MigrationLibvirt = {
    migratableXml: (uuid) => call('xmlDesc', [uuid, XmlFlags.SECURE | XmlFlags.MIGRATABLE]),
    migrate: (uuid, destinationUri, params, flags) => call('migrateToUri3', [uuid, destinationUri, params, flags], null),
    jobStats: (uuid, completed = false) => call('jobStats', [uuid, completed ? JobStatsFlags.COMPLETED : 0]),
    abort: (uuid) => call('abortJob', [uuid]),
    setDowntime: (uuid, ms) => call('migrateSetMaxDowntime', [uuid, ms]),
    setBandwidth: (uuid, mib) => call('migrateSetMaxSpeed', [uuid, mib]),
  };

  const incoming = new IncomingMigrations(
    {
      registry: vms.registry,
      capacity: () => {
        const view = host.resources;
        return view && { memoryMiB: view.memory_mb, memoryUsedMiB: view.memory_mb_used, vcpus: view.vcpus, vcpusUsed: view.vcpus_used };
      },
      refreshResources: () => host.refreshResources(),
      removeDomain: async (vmId) => {
        const outcome = await vmTasks.destroy(rpc, { uri: settings.uri, uuid: vmId }, { timeout: settings.verbTimeout });
        if (!outcome.ok && outcome.error.codeName !== 'VIR_ERR_NO_DOMAIN') throw LibvirtError.fromData(outcome.error);
      },
      describe: vms.describe,
      log,
    },
    { maxIncoming: settings.maxIncoming, timeoutSeconds: settings.destinationTimeout, admission: settings.admission },
  );

  const migrations = new Migrations({
    outgoing: {
      connect: (dst) => connectPeer(dst, settings),
      libvirt,
      statusEvent: (vmId, status) => vms.events.emit('virt', 'VM_migration_status', vmId, { [vmId]: status }),
      jobs,
      delay: (ms, signal) => sleep(ms, undefined, { signal }),
      every: (seconds, tick) => {
        const timer = setInterval(() => void tick().catch((err: unknown) => log.warn({ err }, 'migration monitor failed')), seconds * 1000);
        return () => clearInterval(timer);
      },
      log,
    },
    outgoingSettings: {
      libvirtUri: (host) => settings.destinationLibvirtUri.replaceAll('{host}', host),
      monitorIntervalSeconds: settings.monitorInterval,
      retryIntervalSeconds: settings.retryInterval,
      defaultSchedule: stepSchedule(settings.downtimeMs, settings.downtimeSteps),
    },
    maxOutgoing: settings.maxOutgoing,
    incoming,
    defaultPort: settings.managementPort,
  });
  vms.registry.onRemoved((vm) => migrations.forget(vm.id));
  return migrations;
}

/** The destination's daemon over STOMP, as the engine reaches it; noConPeer when it cannot be. */
async function connectPeer(dst: string, settings: MigrationSettings): Promise<PeerConnection> {
  const [, host = dst, port] = /^\[?(.*?)\]?:(\d+)$/.exec(dst) ?? [];
  try {
    const client = await JsonRpcClient.connect({
      host,
      port: Number(port ?? settings.managementPort),
      timeoutMs: settings.connectTimeout * 1000,
      ...(settings.tls && {
        tls: { cert: readFileSync(settings.tls.certFile), key: readFileSync(settings.tls.keyFile), ca: readFileSync(settings.tls.caFile) },
      }),
    });
    return { call: (method, params) => client.call(method, params), onLost: (listener) => client.onClose(listener), close: () => client.close() };
  } catch (err) {
    throw new MigrationError(MigrationErrorCode.noConPeer, `could not reach the destination's daemon at ${dst}: ${(err as Error).message}`);
  }
}
