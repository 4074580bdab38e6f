/**
 * iproute2, run without a shell: every operation is an argument vector, so no value from a request
 * is ever parsed by a shell. A plan is a list of such vectors; tests compare plans exactly.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** One `ip` invocation's arguments, e.g. ['link', 'add', 'ovirtmgmt', 'type', 'bridge']. */
export type IpOp = readonly string[];

/** The root-owned binary, never one found through a caller's PATH. */
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((path) => existsSync(path)) ?? 'ip';

export class IpError extends Error {
  constructor(
    readonly op: IpOp,
    readonly stderr: string,
  ) {
    super(`ip ${op.join(' ')}: ${stderr.trim() || 'failed'}`);
    this.name = 'IpError';
  }
}

/** Runs one `ip` command; resolves with its stdout. */
export function runIp(op: IpOp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(IP, op, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new IpError(op, stderr || err.message));
      else resolve(stdout);
    });
  });
}

/** Runs a plan in order, stopping at the first failure. */
export async function runPlan(plan: readonly IpOp[]): Promise<void> {
  for (const op of plan) await runIp(op);
}
