/** What the soak's processes share: their messages, waiting for one, and small figures. */
import type { ChildProcess } from 'node:child_process';

export type Msg = { type: string; [key: string]: unknown };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function onMessage<T extends Msg = Msg>(child: ChildProcess | NodeJS.Process, type: string, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', handler);
      reject(new Error(`no '${type}' message from the child within ${ms} ms`));
    }, ms);
    const handler = (msg: Msg): void => {
      if (msg.type !== type) return;
      clearTimeout(timer);
      child.off('message', handler);
      resolve(msg as T);
    };
    child.on('message', handler);
  });
}

export const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
export const r2 = (n: number): number => Math.round(n * 100) / 100;
