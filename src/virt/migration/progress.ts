/**
 * A migration's progress as the engine sees it: vdsm's percentage of the data libvirt says is
 * left, never going back (a new pass over memory makes `data_remaining` grow again), and 99 until
 * the migration has really ended.
 */

/** The job figures progress is read from (libvirt's job stats names). */
export interface MigrationJobFigures {
  data_total?: number;
  data_remaining?: number;
}

/** vdsm's rule: 100 - 100 * remaining / total, 99 at most while running, 100 when nothing is left. */
export function percentOf(figures: MigrationJobFigures): number {
  const total = figures.data_total ?? 0;
  const remaining = figures.data_remaining ?? 0;
  if (total > 0 && remaining === 0) return 100;
  const percent = total > 0 ? 100 - Math.floor((100 * remaining) / total) : 0;
  return percent < 100 ? percent : 99;
}

export class MigrationProgress {
  private value = 0;

  get percent(): number {
    return this.value;
  }

  /** Takes a reading; returns the progress to report (never lower than before, 99 at most). */
  update(figures: MigrationJobFigures): number {
    this.value = Math.max(this.value, Math.min(99, percentOf(figures)));
    return this.value;
  }

  done(): number {
    this.value = 100;
    return this.value;
  }
}
