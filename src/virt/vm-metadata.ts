/**
 * What hostvisor keeps in a domain's <metadata>, so that it outlives a daemon restart: one element
 * in our own namespace, `<hostvisor:vm destroyOnReboot="true"/>`. It is written to the running
 * domain only (libvirt's LIVE), as what it says holds for this run of the VM.
 */
export const METADATA_NAMESPACE = 'urn:hostvisor:vm:1';
/** The prefix libvirt writes the element with; the domain XML reader matches it. */
export const METADATA_PREFIX = 'hostvisor';
export const METADATA_ELEMENT = `${METADATA_PREFIX}:vm`;

export interface VmMetadata {
  /** VM.setDestroyOnReboot: a guest reboot ends the run instead (destroy-on-reboot.ts). */
  destroyOnReboot: boolean;
}

/** The element as virDomainSetMetadata takes it (libvirt adds the namespace declaration). */
export function metadataXml(metadata: VmMetadata): string {
  return `<vm destroyOnReboot="${metadata.destroyOnReboot}"/>`;
}
