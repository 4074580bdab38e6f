/**
 * Worker tasks (contract: src/tasks/vm.ts) for VM lifecycle work that takes more than one libvirt
 * call: discovering the host's domains at start (vdsm's recovery), creating and destroying a VM.
 * Plain data in, plain data out; libvirt errors come back as data (structured cloning would strip
 * a LibvirtError's fields).
 */
import type { CreateOutcome, DestroyOutcome, DiscoveredDomain, VmTasks } from '../src/tasks/vm.js';
import { parseDomainXml } from '../src/virt/domain-xml.js';
import { connectionFor, type BlockingLibvirt } from '../src/virt/libvirt/blocking.js';
import { DomainState, JobOperation, JobType } from '../src/virt/libvirt/constants.js';
import { LibvirtError } from '../src/virt/libvirt/errors.js';
import { qemuProcesses, runsQemuProcesses } from '../src/virt/qemu-processes.js';

/** Every domain on the host with its state and devices; one that vanishes meanwhile is skipped. */
export function discover(task: { uri: string }): DiscoveredDomain[] {
  const conn = connectionFor(task.uri);
  const pids = runsQemuProcesses(task.uri) ? qemuProcesses() : new Map<string, number>();
  const out: DiscoveredDomain[] = [];
  for (const { uuid } of conn.listDomains()) {
    try {
      const description = parseDomainXml(conn.xmlDesc(uuid));
      const migration = migrationOf(conn, uuid);
      out.push({ ...description, uuid, state: conn.state(uuid).state, persistent: conn.isPersistent(uuid), pid: pids.get(uuid) ?? 0, ...(migration && { migration }) });
    } catch (err) {
      if (!(err instanceof LibvirtError)) throw err;
    }
  }
  return out;
}

/** The migration libvirt runs for a domain, if any (drivers without job stats have none). */
function migrationOf(conn: BlockingLibvirt, uuid: string): 'out' | 'in' | undefined {
  try {
    const job = conn.jobStats(uuid);
    if (job.type === JobType.NONE) return undefined;
    if (job.stats['operation'] === JobOperation.MIGRATION_OUT) return 'out';
    if (job.stats['operation'] === JobOperation.MIGRATION_IN) return 'in';
  } catch (err) {
    if (!(err instanceof LibvirtError)) throw err;
  }
  return undefined;
}

/** Defines and starts a domain; a domain that fails to start is undefined again. */
export function create(task: { uri: string; xml: string }): CreateOutcome {
  const conn = connectionFor(task.uri);
  let uuid: string;
  try {
    uuid = conn.defineXml(task.xml).uuid;
  } catch (err) {
    if (err instanceof LibvirtError) return { ok: false, stage: 'define', error: err.toData() };
    throw err;
  }
  try {
    conn.start(uuid);
  } catch (err) {
    if (!(err instanceof LibvirtError)) throw err;
    try {
      conn.undefine(uuid);
    } catch {
      // Leaving a defined, stopped domain behind is the lesser harm; recovery shows it as Down.
    }
    return { ok: false, stage: 'start', error: err.toData() };
  }
  const description = parseDomainXml(conn.xmlDesc(uuid));
  const pid = runsQemuProcesses(task.uri) ? (qemuProcesses().get(uuid) ?? 0) : 0;
  return { ok: true, domain: { ...description, uuid, state: DomainState.RUNNING, persistent: true, pid } };
}

/** Destroys a running domain (if it runs) and removes its definition. */
export function destroy(task: { uri: string; uuid: string }): DestroyOutcome {
  const conn = connectionFor(task.uri);
  try {
    if (conn.isActive(task.uuid)) conn.destroy(task.uuid);
    if (conn.isPersistent(task.uuid)) conn.undefine(task.uuid);
    return { ok: true };
  } catch (err) {
    if (err instanceof LibvirtError) return { ok: false, error: err.toData() };
    throw err;
  }
}

// The compiler checks these exports against the contract the main thread calls through.
({ discover, create, destroy }) satisfies VmTasks;
