/** /etc/os-release (and /etc/debian_version) -> capabilities' operatingSystem. */
import { parseAssignments } from './key-value.js';

export interface OperatingSystem {
  /** vdsm's OS names: `RHEL`, `Fedora`, `Debian`, `oVirt Node`, or `unknown`. */
  name: string;
  version: string;
  release: string;
  pretty_name: string;
}

const NAMES: Record<string, string> = { rhel: 'RHEL', centos: 'RHEL', rocky: 'RHEL', almalinux: 'RHEL', fedora: 'Fedora', debian: 'Debian', ubuntu: 'Debian' };

/**
 * The OS as the engine expects it. Debian's point release (12.5) is in /etc/debian_version, not
 * in os-release, and is the version when present; Debian has no release string.
 */
export function parseOsRelease(osRelease: string, debianVersion?: string): OperatingSystem {
  const fields = parseAssignments(osRelease);
  const ids = [fields['ID'] ?? '', ...(fields['ID_LIKE'] ?? '').split(/\s+/)];
  const name = ids.map((id) => NAMES[id.toLowerCase()]).find((n) => n !== undefined) ?? 'unknown';
  const debian = name === 'Debian' && fields['ID'] === 'debian' ? debianVersion?.trim() : undefined;
  const versionId = fields['VERSION_ID'] ?? '';
  return {
    name,
    version: debian || versionId,
    release: name === 'Debian' ? '' : (fields['VERSION'] ?? '').replace(versionId, '').replace(/[()]/g, '').trim(),
    pretty_name: fields['PRETTY_NAME'] ?? fields['NAME'] ?? '',
  };
}
