/** /proc/meminfo and a NUMA node's meminfo (/sys/devices/system/node/nodeN/meminfo), in KiB. */

/** `MemTotal:  16318024 kB` lines -> { MemTotal: 16318024 }; page counts (HugePages_*) stay counts. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    // A node's file prefixes every line with `Node 0 `.
    const match = /^(?:Node\s+\d+\s+)?([A-Za-z0-9_()]+):\s+(\d+)/.exec(line);
    if (match) out[match[1] as string] = Number(match[2]);
  }
  return out;
}
