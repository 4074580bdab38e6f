/** A HostFiles over an in-memory tree: paths to file texts, folders implied, programs' recorded output. */
import type { HostFiles } from '../../src/virt/host/caps/host-files.js';

export function memoryHostFiles(tree: Record<string, string>, programs: Record<string, string> = {}, links: Record<string, string> = {}): HostFiles {
  const paths = Object.keys(tree);
  const isFolder = (path: string) => paths.some((p) => p.startsWith(`${path}/`));
  return {
    readFile: (path) => tree[path],
    readdir(path) {
      const names = new Set<string>();
      for (const p of [...paths, ...Object.keys(links)]) if (p.startsWith(`${path}/`)) names.add(p.slice(path.length + 1).split('/')[0] as string);
      return [...names].sort();
    },
    exists: (path) => path in tree || path in links || isFolder(path),
    readlink: (path) => links[path],
    execFile: (file, args) => programs[[file, ...args].join(' ')],
  };
}
