/** A VM registry holding a generated test host's domains, described as the daemon would see them. */
import type { TestHost } from '../doubles/testhost.js';
import { VmRegistry } from '../../src/virt/registry.js';

export function registryOf(host: TestHost): VmRegistry {
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => Date.now(), monotonic: () => performance.now() / 1000 });
  for (const d of host.domains) {
    const vm = registry.add(d.uuid, d.name, d.state === 'running' ? 'Up' : 'Down');
    vm.describe({
      uuid: d.uuid,
      name: d.name,
      vcpus: 2,
      memoryKiB: 1048576,
      devices: {
        disks: d.disks.map((name) => ({ name, source: undefined, readonly: false })),
        // The test driver renames host-side devices; it finds NICs by MAC.
        nics: d.nics.map((mac, k) => ({ name: `testnet${k}`, mac, model: 'virtio' })),
        channels: [],
      },
      timeOffset: '0',
      devicesHash: '',
      destroyOnReboot: false,
    });
  }
  return registry;
}
