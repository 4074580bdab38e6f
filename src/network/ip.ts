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

/** `-4` or `-6`: a family flag ip takes only before a batch, not on its lines. */
function familyOf(op: IpOp): string {
  return op[0] === '-4' || op[0] === '-6' ? op[0] : '';
}

/**
 * Runs a plan in `ip -batch` processes (one per run of operations of the same family flag, rather
 * than one per operation), in order, stopping at the first failure, which is reported with its
 * operation. With `force`, every operation is tried and the failed ones are returned (a rollback
 * puts back all it can).
 */
export async function runPlan(plan: readonly IpOp[], options: { force?: boolean; timeoutMs?: number } = {}): Promise<IpError[]> {
  for (const op of plan) {
    // Batch lines are split on blanks: an argument holding one would become two.
    if (op.some((arg) => arg === '' || /[\s"'\\#]/.test(arg))) throw new IpError(op, 'argument not allowed in a batch');
  }
  const failed: IpError[] = [];
  for (let start = 0; start < plan.length; ) {
    const family = familyOf(plan[start]!);
    let end = start + 1;
    while (end < plan.length && familyOf(plan[end]!) === family) end++;
    const batch = plan.slice(start, end).map((op) => (family === '' ? op : op.slice(1)));
    failed.push(...(await runBatch(batch, family, options)));
    start = end;
  }
  return failed;
}

function runBatch(batch: readonly IpOp[], family: string, options: { force?: boolean; timeoutMs?: number }): Promise<IpError[]> {
  const flags = [...(family === '' ? [] : [family]), ...(options.force ? ['-force'] : []), '-batch', '-'];
  const failure = (line: number, text: string): IpError => new IpError([...(family === '' ? [] : [family]), ...(batch[line - 1] ?? [])], text);
  return new Promise((resolve, reject) => {
    const child = execFile(IP, flags, { timeout: options.timeoutMs ?? 60_000 }, (err, _stdout, stderr) => {
      const failed = [...stderr.matchAll(/^(.*)\nCommand failed -:(\d+)$/gm)].map((m) => failure(Number(m[2]), m[1] ?? ''));
      if (err && !options.force) reject(failed[0] ?? failure(1, stderr || err.message));
      else resolve(failed);
    });
    child.stdin!.end(`${batch.map((op) => op.join(' ')).join('\n')}\n`);
  });
}
