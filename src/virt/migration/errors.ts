/**
 * How a migration fails, in vdsm's codes: the engine tells a refusal from a failure and a cancel
 * by them (exist 4, noConPeer 10, migrateErr 12, outOfMem 14, migCancelErr 47, migNotInProgress 81,
 * migrateLimit 82, migOperationErr 102).
 */
import { ErrorCode, isLibvirtError } from '../libvirt/errors.js';

export const MigrationErrorCode = {
  exist: 4,
  noConPeer: 10,
  migrateErr: 12,
  outOfMem: 14,
  migCancelErr: 47,
  migNotInProgress: 81,
  migrateLimit: 82,
  migOperationErr: 102,
} as const;
export type MigrationErrorCode = (typeof MigrationErrorCode)[keyof typeof MigrationErrorCode];

/** vdsm's fixed texts for the codes. */
export const MIGRATION_ERROR_TEXT: Record<MigrationErrorCode, string> = {
  4: 'Virtual machine already exists',
  10: 'Could not connect to peer host',
  12: 'Fatal error during migration',
  14: 'Not enough free memory to create VM',
  47: 'Error canceling migration',
  81: 'Migration not in progress',
  82: 'Incoming migration limit exceeded',
  102: 'Migration operation failed',
};

export class MigrationError extends Error {
  override name = 'MigrationError';

  constructor(
    readonly code: MigrationErrorCode,
    /** Why, in words: the reason in the error's context. */
    message: string,
  ) {
    super(message);
  }

  /** libvirt's failure of the migration call: aborted is a cancel, "operation failed" vdsm's 102. */
  static fromLibvirt(err: unknown): MigrationError {
    const message = (err as Error).message ?? String(err);
    if (isLibvirtError(err, ErrorCode.OPERATION_ABORTED)) return new MigrationError(MigrationErrorCode.migCancelErr, message);
    if (isLibvirtError(err, ErrorCode.OPERATION_FAILED)) return new MigrationError(MigrationErrorCode.migOperationErr, message);
    return new MigrationError(MigrationErrorCode.migrateErr, message);
  }
}
