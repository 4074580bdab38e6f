/**
 * libvirt's domain capabilities XML (virConnectGetDomainCapabilities): which named CPU models a
 * guest on this host can be given, and the features of the host's own model. The engine matches
 * a host to a cluster CPU by the `model_<Name>` flags built from the usable models.
 */
import { childrenNamed, find, parseXmlTree } from './xml-tree.js';

export interface DomainCpuCapabilities {
  /** `<mode name='custom'>` models with usable='yes', in libvirt's order. */
  usableModels: string[];
  /** `<mode name='host-model'>` features with policy='require'. */
  hostModelFeatures: string[];
  /** The host-model's own model name, when libvirt gives one. */
  hostModel: string | undefined;
}

export function parseDomainCapabilities(xml: string): DomainCpuCapabilities {
  const modes = childrenNamed(find(parseXmlTree(xml), 'cpu'), 'mode');
  const custom = modes.find((m) => m.attributes['name'] === 'custom' && m.attributes['supported'] === 'yes');
  const hostModel = modes.find((m) => m.attributes['name'] === 'host-model' && m.attributes['supported'] !== 'no');
  const usable = childrenNamed(custom, 'model')
    .filter((m) => m.attributes['usable'] === 'yes' && m.text !== '')
    .map((m) => m.text);
  return {
    usableModels: [...new Set(usable)],
    hostModelFeatures: childrenNamed(hostModel, 'feature')
      .filter((f) => f.attributes['policy'] === 'require' && f.attributes['name'])
      .map((f) => f.attributes['name'] as string),
    hostModel: find(hostModel, 'model')?.text || undefined,
  };
}

/**
 * The host's cpuFlags: /proc/cpuinfo's flags, the host model's required features, then one
 * `model_<Name>` per usable CPU model. A usable `-IBRS` model means the host has spec_ctrl even
 * where the kernel does not list it.
 */
export function cpuFlags(procFlags: readonly string[], domain: DomainCpuCapabilities | undefined): string[] {
  const flags = new Set<string>(procFlags);
  for (const feature of domain?.hostModelFeatures ?? []) flags.add(feature);
  const models = domain?.usableModels ?? [];
  if (models.some((m) => m.endsWith('-IBRS'))) flags.add('spec_ctrl');
  return [...flags, ...models.map((m) => `model_${m}`)];
}
