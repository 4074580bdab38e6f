/**
 * The engine's memory-overcommit policy (Host.setMOMPolicyParameters): the parameters as last
 * sent, key by key, and their KSM part applied to the kernel. `ksmEnabled` starts or stops ksmd
 * (/sys/kernel/mm/ksm/run); `ksmMergeAcrossNodes` sets merge_across_nodes, which the kernel only
 * takes while nothing is merged, so it is written with ksmd stopped and its pages unmerged (run = 2)
 * first. Ballooning is not acted on: no MOM runs here, so getStats keeps saying momStatus
 * "disabled". A write the host refuses (no KSM, no permission) is logged; the policy is kept.
 * The writes are asynchronous file I/O: nothing blocks the main thread.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.js';

export class MemoryPolicy {
  private values: Record<string, unknown> = {};
  /** The writes of the last update, in order: the next update waits for them. */
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    /** The KSM folder of sysfs; a test points it elsewhere. */
    private readonly ksmDir = '/sys/kernel/mm/ksm',
  ) {}

  get parameters(): Readonly<Record<string, unknown>> {
    return this.values;
  }

  /** Merges the parameters in and applies their KSM part; resolves once the kernel was told. */
  update(parameters: Record<string, unknown>): Promise<void> {
    this.values = { ...this.values, ...parameters };
    const enabled = flag(parameters['ksmEnabled']);
    const acrossNodes = flag(parameters['ksmMergeAcrossNodes']);
    this.applying = this.applying.then(async () => {
      if (acrossNodes !== undefined) {
        await this.write('run', '2');
        await this.write('merge_across_nodes', acrossNodes ? '1' : '0');
        if (enabled === undefined) await this.write('run', flag(this.values['ksmEnabled']) ? '1' : '0');
      }
      if (enabled !== undefined) await this.write('run', enabled ? '1' : '0');
    });
    return this.applying;
  }

  private async write(file: string, value: string): Promise<void> {
    try {
      await writeFile(join(this.ksmDir, file), value);
    } catch (err) {
      this.log.warn({ err, file: join(this.ksmDir, file), value }, 'KSM setting of the memory policy not applied');
    }
  }
}

/** The engine sends booleans as booleans or as "true"/"false". */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  return undefined;
}
