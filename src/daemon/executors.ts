/**
 * The scheduler and the three worker pools, as one lifecycle Part:
 *   rpc       libvirt calls of API verbs
 *   periodic  host and VM sampling, recovery
 *   qga       the QEMU guest agent poller
 * Separate pools so that a hung guest agent or a slow verb cannot hold sampling up, and the other
 * way round. Stop reports how many threads stayed stuck in calls: the process must then exit
 * without waiting for them.
 */
import { Executor, Scheduler } from '../concurrency/index.js';
import type { Part } from '../lifecycle.js';
import { getLogger } from '../log.js';
import { workerModuleFile, type WorkerModule } from '../tasks/contract.js';
import type { DaemonSettings, PoolSettings } from './settings.js';

export interface Executors {
  readonly scheduler: Scheduler;
  readonly rpc: Executor;
  readonly periodic: Executor;
  readonly qga: Executor;
  readonly part: Part;
  /** Worker threads still stuck in a call after the stop. */
  stuckThreads(): number;
}

export function buildExecutors(pools: DaemonSettings['pools']): Executors {
  const scheduler = new Scheduler('hostvisor.Scheduler', { logger: getLogger('scheduler') });
  const pool = (name: string, settings: PoolSettings, module: WorkerModule, warmThreads: number): Executor =>
    new Executor({
      name,
      workers: settings.workers,
      maxTasks: settings.workers * settings.tasksPerWorker,
      maxWorkers: settings.maxWorkers,
      scheduler,
      filename: workerModuleFile(module),
      logger: getLogger('executor', { executor: name }),
      warmThreads,
    });
  // Each warm idle thread holds ~10 MB, so pools keep warm only what they use at once: verbs are
  // occasional (a second verb at once waits only for a thread's boot); sampling runs the VM cycle
  // and the host sample together; the QEMU agent poller works a few times a minute.
  const rpc = pool('rpc', pools.rpc, 'libvirt', 1);
  const periodic = pool('periodic', pools.periodic, 'libvirt', 2);
  const qga = pool('qga', pools.qga, 'qga', 1);
  const all = [rpc, periodic, qga];

  let stuck = 0;
  const part: Part = {
    name: 'executors',
    start() {
      scheduler.start();
      for (const executor of all) executor.start();
    },
    async stop() {
      const reports = await Promise.all(all.map((executor) => executor.stop()));
      stuck = reports.reduce((n, report) => n + report.stuckThreads, 0);
      scheduler.stop();
    },
  };
  return { scheduler, rpc, periodic, qga, part, stuckThreads: () => stuck };
}
