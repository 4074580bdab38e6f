/**
 * The error every failed libvirt call throws: libvirt's own code, domain (the subsystem that
 * failed), level and message, taken from the calling thread's last error. The addon constructs
 * this class directly (see native.ts), so `instanceof LibvirtError` holds in every thread.
 */
import { ERROR_CODE_NAMES, ERROR_DOMAIN_NAMES } from './error-names.js';

/** The virErrorNumber values hostvisor acts on; ERROR_CODE_NAMES has all of them. */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  /** Also used by hostvisor when the shared connection was dropped and is not reopened yet. */
  NO_CONNECT: 5,
  /** Also used by hostvisor for a Connection used after close(). */
  INVALID_CONN: 6,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  OPERATION_INVALID: 55,
  /** Also what a host without SMBIOS tables answers for sysinfo. */
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  OPERATION_ABORTED: 72,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  AGENT_UNSYNCED: 97,
} as const;

export const ErrorLevel = { NONE: 0, WARNING: 1, ERROR: 2 } as const;

export class LibvirtError extends Error {
  override name = 'LibvirtError';

  constructor(
    message: string,
    /** virErrorNumber, e.g. 42 (VIR_ERR_NO_DOMAIN). */
    readonly code: number,
    /** virErrorDomain, e.g. 12 (VIR_FROM_TEST). */
    readonly domain: number,
    /** virErrorLevel: 1 warning, 2 error. */
    readonly level: number,
    /** The libvirt API that failed, e.g. `virDomainLookupByUUIDString`. */
    readonly call: string,
  ) {
    super(message);
  }

  /** `VIR_ERR_NO_DOMAIN`, or `VIR_ERR_<n>` for a code newer than this table. */
  get codeName(): string {
    return ERROR_CODE_NAMES[this.code] ?? `VIR_ERR_${this.code}`;
  }

  /** `VIR_FROM_TEST`, or `VIR_FROM_<n>`. */
  get domainName(): string {
    return `VIR_FROM_${ERROR_DOMAIN_NAMES[this.domain] ?? this.domain}`;
  }

  /** Plain data for crossing a worker boundary (structured clone drops an Error's fields). */
  toData(): LibvirtErrorData {
    return { message: this.message, code: this.code, domain: this.domain, level: this.level, call: this.call, codeName: this.codeName };
  }

  static fromData(data: LibvirtErrorData): LibvirtError {
    return new LibvirtError(data.message, data.code, data.domain, data.level, data.call);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, code: this.codeName, domain: this.domainName, call: this.call };
  }
}

export interface LibvirtErrorData {
  message: string;
  code: number;
  domain: number;
  level: number;
  call: string;
  /** For people reading logs; `code` is what programs compare. */
  codeName: string;
}

export function isLibvirtError(err: unknown, code?: number): err is LibvirtError {
  return err instanceof LibvirtError && (code === undefined || err.code === code);
}

/** The domain does not exist (any more): VIR_ERR_NO_DOMAIN. */
export function isNoDomain(err: unknown): err is LibvirtError {
  return isLibvirtError(err, ErrorCode.NO_DOMAIN);
}
