/** /proc/cpuinfo: the CPU's model name, speed and flags, from the first processor's block. */

export interface CpuInfo {
  /** Processors listed (online CPUs). */
  processors: number;
  modelName: string;
  /** MHz of the first processor, as the kernel prints it (`2394.454`). */
  mhz: string;
  flags: string[];
}

// Keys differ by architecture: x86 `model name`/`flags`/`cpu MHz`, POWER `cpu`/`clock`,
// ARM `Features` and no model name line (the `CPU part` ids only).
const MODEL_KEYS = ['model name', 'cpu', 'Processor'];
const FLAG_KEYS = ['flags', 'Features'];
const MHZ_KEYS = ['cpu MHz', 'clock'];

function firstOf(fields: Map<string, string>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = fields.get(key);
    if (value !== undefined) return value;
  }
  return undefined;
}

export function parseCpuInfo(text: string): CpuInfo {
  const first = new Map<string, string>();
  let processors = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'processor') processors++;
    if (processors <= 1 && !first.has(key)) first.set(key, value);
  }
  const mhz = (firstOf(first, MHZ_KEYS) ?? '').replace(/MHz$/i, '').trim();
  return {
    processors,
    modelName: firstOf(first, MODEL_KEYS) ?? '',
    mhz,
    flags: (firstOf(first, FLAG_KEYS) ?? '').split(/\s+/).filter((f) => f !== ''),
  };
}
