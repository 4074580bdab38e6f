/**
 * The engine's memory-overcommit policy (Host.setMOMPolicyParameters): the parameters as last
 * sent, key by key, and their KSM part handed to whatever may write the kernel's switches (the
 * privileged helper). Ballooning is not acted on: no MOM runs here, so getStats keeps saying
 * momStatus "disabled". A change the host refuses (no KSM, no helper) is logged; the policy is kept.
 */
import type { Logger } from '../../log.js';
import type { KsmSettings } from './ksm.js';

export type KsmControl = (settings: KsmSettings) => Promise<unknown>;

export class MemoryPolicy {
  private values: Record<string, unknown> = {};
  /** The change of the last update: the next update waits for it, so changes land in order. */
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly ksm: KsmControl,
  ) {}

  get parameters(): Readonly<Record<string, unknown>> {
    return this.values;
  }

  /** Merges the parameters in and applies their KSM part; resolves once the kernel was told. */
  update(parameters: Record<string, unknown>): Promise<void> {
    this.values = { ...this.values, ...parameters };
    const mergeAcrossNodes = flag(parameters['ksmMergeAcrossNodes']);
    // Changing merge_across_nodes stops ksmd: it runs again as the policy says.
    const run = flag(parameters['ksmEnabled']) ?? (mergeAcrossNodes !== undefined ? flag(this.values['ksmEnabled']) === true : undefined);
    if (run === undefined && mergeAcrossNodes === undefined) return this.applying;
    const settings: KsmSettings = { ...(run !== undefined ? { run } : {}), ...(mergeAcrossNodes !== undefined ? { mergeAcrossNodes } : {}) };
    this.applying = this.applying.then(async () => {
      try {
        await this.ksm(settings);
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : err, settings }, 'KSM settings of the memory policy not applied');
      }
    });
    return this.applying;
  }
}

/** The engine sends booleans as booleans or as "true"/"false". */
function flag(value: unknown): boolean | undefined {
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  return undefined;
}
