/**
 * VM.migrate's params as the engine sends them (booleans and numbers often as strings), turned
 * into what the migration does: the destination daemon to call, the libvirt flags and typed
 * parameters, the convergence schedule and the limits. As vdsm: always live and peer to peer,
 * the domain made persistent on the destination; the stream goes to `dstqemu` (or the
 * destination's address) unless tunnelled through libvirt's own connection.
 */
import { MigrateFlags } from '../libvirt/constants.js';
import type { MigrationParams } from '../libvirt/types.js';
import type { ConvergenceSchedule } from './convergence.js';
import { MigrationError, MigrationErrorCode } from './errors.js';

export interface OutgoingRequest {
  /** The destination daemon, "host:port". */
  dst: string;
  /** Its host part, as a libvirt URI takes it (IPv6 in brackets). */
  dstHost: string;
  flags: number;
  /** Without the domain XML, which is read when the migration starts. */
  libvirtParams: Omit<MigrationParams, 'destXml'>;
  convergenceSchedule?: ConvergenceSchedule;
  incomingLimit?: number;
  outgoingLimit?: number;
}

/** "true"/"false" in any case, or a boolean. */
function flag(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

/** A non-negative whole number, or a string of one; undefined when absent or empty. */
function count(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** "host", "host:port", "[v6]" or "[v6]:port" → the host (brackets kept for IPv6) and the port. */
export function splitHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const plain = /^([^:\s]+)(?::(\d+))?$/.exec(address);
  if (plain) return { host: plain[1]!, port: plain[2] ? Number(plain[2]) : defaultPort };
  // A bare IPv6 literal, as some callers send it.
  if (address.includes(':') && !/\s/.test(address)) return { host: `[${address}]`, port: defaultPort };
  throw new MigrationError(MigrationErrorCode.migrateErr, `dst ${JSON.stringify(address)} is not "host:port"`);
}

export function outgoingRequest(params: Record<string, unknown>, defaultPort: number): OutgoingRequest {
  if (params['method'] !== undefined && params['method'] !== 'online') {
    throw new MigrationError(MigrationErrorCode.migrateErr, `migration method ${JSON.stringify(params['method'])} is not supported (only "online")`);
  }
  const dst = String(params['dst'] ?? '');
  const { host, port } = splitHostPort(dst, defaultPort);
  let flags = MigrateFlags.LIVE | MigrateFlags.PEER2PEER | MigrateFlags.PERSIST_DEST;
  const tunneled = flag(params['tunneled']);
  if (tunneled) flags |= MigrateFlags.TUNNELLED;
  if (flag(params['abortOnError'])) flags |= MigrateFlags.ABORT_ON_ERROR;
  if (flag(params['compressed'])) flags |= MigrateFlags.COMPRESSED;
  if (flag(params['autoConverge'])) flags |= MigrateFlags.AUTO_CONVERGE;
  if (flag(params['encrypted'])) flags |= MigrateFlags.TLS;
  const libvirtParams: OutgoingRequest['libvirtParams'] = {};
  const parallel = count(params['parallel']);
  if (parallel !== undefined && parallel > 0) {
    flags |= MigrateFlags.PARALLEL;
    libvirtParams.parallelConnections = parallel;
  }
  if (!tunneled) {
    const stream = params['dstqemu'] ? splitHostPort(String(params['dstqemu']), 0).host : host;
    libvirtParams.uri = `tcp://${stream}`;
  }
  const bandwidth = count(params['maxBandwidth']);
  if (bandwidth !== undefined && bandwidth > 0) libvirtParams.bandwidth = bandwidth;
  const request: OutgoingRequest = { dst: `${host}:${port}`, dstHost: host, flags, libvirtParams };
  const schedule = params['convergenceSchedule'] as ConvergenceSchedule | undefined;
  if (schedule !== undefined) {
    request.convergenceSchedule = {
      init: schedule.init,
      stalling: schedule.stalling.map((item) => ({ limit: Number(item.limit), action: item.action })),
    };
  }
  const incoming = count(params['incomingLimit']);
  if (incoming !== undefined && incoming > 0) request.incomingLimit = incoming;
  const outgoing = count(params['outgoingLimit']);
  if (outgoing !== undefined && outgoing > 0) request.outgoingLimit = outgoing;
  return request;
}
