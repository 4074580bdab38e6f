/**
 * The convergence schedule of a live migration, as vdsm runs it: `init` actions run when the
 * migration starts; then, each time QEMU begins a new pass over the guest's memory (libvirt's
 * `memory_iteration` grows), the head of `stalling` runs once the passes so far exceed its
 * `limit`, and is dropped. A migration that keeps needing passes thus walks the list: larger
 * downtimes, then abort. Without a schedule from the engine, vdsm's downtime steps make one.
 *
 * Pure: it says which actions are due; the migration's monitor carries them out.
 */

export type ConvergenceActionName = 'setDowntime' | 'postcopy' | 'abort';

export interface ConvergenceAction {
  name: ConvergenceActionName;
  /** setDowntime: [milliseconds]. */
  params: string[];
}

export interface ConvergenceSchedule {
  init: ConvergenceAction[];
  stalling: Array<{ limit: number; action: ConvergenceAction }>;
}

/**
 * vdsm's downtime steps: `steps` values growing exponentially to `downtimeMs`
 * (500 ms in 5 steps: 101, 104, 120, 189, 500).
 */
export function downtimeSteps(downtimeMs: number, steps: number): number[] {
  if (steps <= 1) return [downtimeMs];
  const offset = downtimeMs / steps;
  const base = (downtimeMs - offset) ** (1 / (steps - 1));
  return Array.from({ length: steps }, (_, i) => Math.floor(offset + base ** i));
}

const setDowntime = (ms: number): ConvergenceAction => ({ name: 'setDowntime', params: [String(ms)] });

/**
 * The schedule vdsm builds when the engine sends none: the first step at the start, each next
 * step after one more pass, the last one again after 42 passes, then abort.
 */
export function stepSchedule(downtimeMs: number, steps: number): ConvergenceSchedule {
  const [first, ...rest] = downtimeSteps(downtimeMs, steps);
  const stalling = rest.map((ms, i) => ({ limit: i + 1, action: setDowntime(ms) }));
  stalling.push({ limit: 42, action: setDowntime(rest.at(-1) ?? first!) });
  stalling.push({ limit: -1, action: { name: 'abort', params: [] } });
  return { init: [setDowntime(first!)], stalling };
}

/** Walks one migration's schedule as the passes over memory go by. */
export class ConvergenceTracker {
  private readonly stalling: ConvergenceSchedule['stalling'];
  private firstIteration: number | undefined;
  private lastIteration = 0;

  constructor(private readonly schedule: ConvergenceSchedule) {
    this.stalling = [...schedule.stalling];
  }

  /** The actions to run as the migration starts. */
  start(): ConvergenceAction[] {
    return [...this.schedule.init];
  }

  /**
   * The actions due now, given libvirt's pass counter. The first reading is the baseline: the
   * counter may include passes of an earlier, cancelled migration.
   */
  observe(memoryIteration: number): ConvergenceAction[] {
    if (this.firstIteration === undefined) {
      this.firstIteration = this.lastIteration = memoryIteration;
      return [];
    }
    if (memoryIteration <= this.lastIteration) return [];
    this.lastIteration = memoryIteration;
    const passes = memoryIteration - this.firstIteration;
    const head = this.stalling[0];
    if (head === undefined || head.limit >= passes) return [];
    this.stalling.shift();
    return [head.action];
  }
}
