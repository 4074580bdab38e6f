/**
 * VmDispatcher: one executor task per VM per tick (vdsm's periodic.VmDispatcher), the body of a
 * non-exclusive Operation. run() walks getVms() and for each VM asks create(vm) for an operation:
 * - required false (e.g. not monitorable): skipped silently;
 * - the VM's previous task from this dispatcher is still running: skipped (listed). vdsm piles a
 *   new task on a stuck VM every tick; we do not. A task discarded on timeout keeps its VM busy
 *   until its late result arrives, since its thread is still inside that VM's call;
 * - runnable false: skipped (listed);
 * - create/required/runnable throwing: logged "while dispatching ...", neither run nor listed;
 * - a full queue (ResourceExhausted): listed, and the loop goes on. Any other dispatch error
 *   (NotRunning) ends the fan-out, as in vdsm.
 * Listed VMs are logged "could not run <name> on <ids>" and returned. Each outcome goes to the
 * operation's onResult: the result or error, a TaskTimeout when discarded, then the late outcome.
 * Tasks run with the dispatcher's timeout (vdsm: period / 2) and discard (true by default).
 */
import { getLogger, type Logger } from '../log.js';
import type { TaskDispatcher } from './dispatcher.js';
import { ResourceExhausted, TaskTimeout } from './errors.js';
import type { Settled, TaskSpec } from './task.js';

/** The outcome of one VM's task; late: it came after the task was discarded on timeout. */
export type VmTaskOutcome<R> = Settled<R> & { late: boolean };

/** What create(vm) returns; required and runnable may be getters (read in that order). */
export interface VmOperation<R = unknown> {
  /** False: the VM needs no call now (not monitorable); skipped without a word. */
  readonly required: boolean;
  /** False: the VM cannot take the call now; skipped and reported. */
  readonly runnable: boolean;
  readonly task: TaskSpec;
  onResult?(outcome: VmTaskOutcome<R>): void;
}

export interface VmDispatcherOptions {
  /** For logs; create's function name by default. */
  name?: string;
  discard?: boolean;
  logger?: Logger;
}

export class VmDispatcher<Vm, R = unknown> {
  readonly name: string;
  private readonly getVms: () => ReadonlyMap<string, Vm>;
  private readonly executor: TaskDispatcher;
  private readonly create: (vm: Vm, id: string) => VmOperation<R>;
  private readonly timeout: number | null;
  private readonly discard: boolean;
  private readonly log: Logger;
  /** VMs whose task from this dispatcher has not come back. */
  private readonly inFlight = new Set<string>();

  constructor(
    getVms: () => ReadonlyMap<string, Vm>,
    executor: TaskDispatcher,
    create: (vm: Vm, id: string) => VmOperation<R>,
    timeout: number | null,
    options: VmDispatcherOptions = {},
  ) {
    this.getVms = getVms;
    this.executor = executor;
    this.create = create;
    this.timeout = timeout;
    this.discard = options.discard ?? true;
    this.name = options.name ?? (create.name || 'vm-operation');
    this.log = options.logger ?? getLogger('vm-dispatcher', { operation: this.name });
  }

  /** VM ids whose previous task is still running. */
  get busy(): ReadonlySet<string> {
    return this.inFlight;
  }

  /** Dispatches one task per eligible VM; returns the ids of the VMs skipped. */
  run(): string[] {
    const skipped: string[] = [];
    for (const [id, vm] of this.getVms()) {
      let operation: VmOperation<R>;
      try {
        operation = this.create(vm, id);
        if (!operation.required) continue;
        if (this.inFlight.has(id) || !operation.runnable) {
          skipped.push(id);
          continue;
        }
      } catch (err) {
        this.log.error({ err, vm: id }, 'while dispatching %s on %s', this.name, id);
        continue;
      }
      try {
        this.dispatch(id, operation);
      } catch (err) {
        if (!(err instanceof ResourceExhausted)) throw err;
        skipped.push(id);
      }
    }
    if (skipped.length > 0) this.log.warn({ skipped }, 'could not run %s on %s', this.name, skipped.join(', '));
    return skipped;
  }

  private dispatch(id: string, operation: VmOperation<R>): void {
    const deliver = (outcome: VmTaskOutcome<R>): void => {
      try {
        operation.onResult?.(outcome);
      } catch (err) {
        this.log.error({ err, vm: id }, 'Unhandled exception in the result of %s on %s', this.name, id);
      }
    };
    const pending = this.executor.dispatch<R>(operation.task, {
      timeout: this.timeout,
      discard: this.discard,
      onLate: (outcome) => {
        this.inFlight.delete(id);
        deliver({ ...outcome, late: true });
      },
    });
    this.inFlight.add(id);
    pending.then(
      (value) => {
        this.inFlight.delete(id);
        deliver({ status: 'fulfilled', value, late: false });
      },
      (reason: unknown) => {
        // A discarded task still occupies its thread (and the VM): wait for the late outcome.
        if (!(reason instanceof TaskTimeout)) this.inFlight.delete(id);
        deliver({ status: 'rejected', reason, late: false });
      },
    );
  }
}
