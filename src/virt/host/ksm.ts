/**
 * KSM's kernel switches (/sys/kernel/mm/ksm): ksmd on or off, and merging across NUMA nodes. The
 * kernel only takes merge_across_nodes while nothing is merged, so it is written with ksmd stopped
 * and its pages unmerged (run = 2) first, then ksmd is set as asked. Root only: the privileged
 * helper runs this for the daemon.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface KsmSettings {
  run?: boolean;
  mergeAcrossNodes?: boolean;
}

export const KSM_DIR = '/sys/kernel/mm/ksm';

export async function applyKsm(settings: KsmSettings, ksmDir = KSM_DIR): Promise<void> {
  const write = (file: string, value: string): Promise<void> => writeFile(join(ksmDir, file), value);
  if (settings.mergeAcrossNodes !== undefined) {
    await write('run', '2');
    await write('merge_across_nodes', settings.mergeAcrossNodes ? '1' : '0');
  }
  if (settings.run !== undefined) await write('run', settings.run ? '1' : '0');
}
