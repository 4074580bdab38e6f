/**
 * Prints the plain closing line CI reads, `N passed, M failed`, after vitest's own summary,
 * so a run that executed no test is visible as `0 passed, 0 failed`.
 */
import type { File, Task } from '@vitest/runner';
import type { Reporter } from 'vitest/node';

function* leaves(tasks: readonly Task[]): Generator<Task> {
  for (const task of tasks) {
    if (task.type === 'suite') yield* leaves(task.tasks);
    else yield task;
  }
}

/** Suites whose own hooks failed (a failing beforeAll leaves its tests merely skipped). */
function* failedSuites(tasks: readonly Task[]): Generator<Task> {
  for (const task of tasks) {
    if (task.type !== 'suite') continue;
    if ((task.result?.errors?.length ?? 0) > 0) yield task;
    yield* failedSuites(task.tasks);
  }
}

export default class SummaryReporter implements Reporter {
  // onFinished runs after the default reporter's summary (onTestRunEnd runs before it).
  onFinished(files: File[] = [], errors: unknown[] = []): void {
    let passed = 0;
    let failed = errors.length;
    let skipped = 0;
    for (const file of files) {
      // A file that failed to load or whose hooks failed has no passing tests to show for it.
      if ((file.result?.errors?.length ?? 0) > 0) failed++;
      for (const _ of failedSuites(file.tasks)) failed++;
      for (const test of leaves(file.tasks)) {
        const state = test.result?.state;
        if (state === 'pass') passed++;
        else if (state === 'fail') failed++;
        else skipped++;
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
