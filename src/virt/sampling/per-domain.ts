/**
 * The per-domain sampling loop, one domain at a time, shared by every worker task that samples a
 * list of domains. A domain that no longer exists is reported as missing, one whose calls fail
 * otherwise as failed, and either leaves a null in the aligned samples: one bad VM never costs the
 * others their sample. Pure apart from the calls `sampleOne` makes.
 */
import { LibvirtError, isNoDomain, type LibvirtErrorData } from '../libvirt/errors.js';

export interface PerDomainResult<S> {
  /** Aligned with the domains asked for; null when the domain failed or is gone. */
  samples: (S | null)[];
  /** Gone (VIR_ERR_NO_DOMAIN). */
  missing: string[];
  /** Failed otherwise. */
  failed: Record<string, LibvirtErrorData>;
  /** Time spent in libvirt and decoding, inside the worker (excludes queueing and transfer). */
  elapsedMs: number;
}

/**
 * Samples each domain in order. `sampleOne` returns 'missing' for a domain it found gone without
 * an error. Before each domain its index goes into `progress[0]` (an Int32Array over a
 * SharedArrayBuffer the main thread also sees), so when a call gets stuck the main thread knows
 * which VM to stop asking; at the end it holds the number of domains.
 */
export function sampleDomains<D extends { uuid: string }, S>(
  domains: readonly D[],
  sampleOne: (domain: D) => S | 'missing',
  progress?: Int32Array,
): PerDomainResult<S> {
  const t0 = performance.now();
  // Arrays, not an object keyed by UUID: a thousand fresh keys per task cost more than the
  // libvirt calls of a hundred domains.
  const result: PerDomainResult<S> = { samples: [], missing: [], failed: {}, elapsedMs: 0 };
  domains.forEach((domain, i) => {
    if (progress !== undefined) Atomics.store(progress, 0, i);
    try {
      const sample = sampleOne(domain);
      if (sample === 'missing') {
        result.samples.push(null);
        result.missing.push(domain.uuid);
      } else {
        result.samples.push(sample);
      }
    } catch (err) {
      result.samples.push(null);
      if (isNoDomain(err)) result.missing.push(domain.uuid);
      else if (err instanceof LibvirtError) result.failed[domain.uuid] = err.toData();
      else throw err;
    }
  });
  if (progress !== undefined) Atomics.store(progress, 0, domains.length);
  result.elapsedMs = performance.now() - t0;
  return result;
}
