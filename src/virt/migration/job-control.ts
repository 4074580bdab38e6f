/**
 * The engine's hands on a running migration job, whoever started it (this daemon, or the one
 * before a restart): cancel (libvirt aborts the job; migCancelErr when it cannot) and bandwidth
 * (migrateErr with libvirt's reason when it refuses).
 */
import { MigrationError, MigrationErrorCode } from './errors.js';

export async function abortJob(libvirt: { abort(uuid: string): Promise<void> }, vmId: string): Promise<void> {
  try {
    await libvirt.abort(vmId);
  } catch (err) {
    throw new MigrationError(MigrationErrorCode.migCancelErr, `libvirt could not abort the migration: ${(err as Error).message}`);
  }
}

export async function changeBandwidth(libvirt: { setBandwidth(uuid: string, mibPerSecond: number): Promise<void> }, vmId: string, mibPerSecond: number): Promise<void> {
  try {
    await libvirt.setBandwidth(vmId, mibPerSecond);
  } catch (err) {
    throw new MigrationError(MigrationErrorCode.migrateErr, `libvirt could not change the bandwidth: ${(err as Error).message}`);
  }
}
