/**
 * The network configurations the privileged helper saves, `running.json` and `safe.json` (each a
 * NetConfig as JSON). A file that is missing, unreadable or not a configuration counts as the
 * empty configuration: a host without the helper manages no networks and has nothing unsaved.
 */
import { EMPTY_NET_CONFIG, type NetConfig } from '../../../network/config.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of `value` that are objects: a malformed entry is dropped, not a failed gathering. */
function objectEntries<T>(value: unknown): Record<string, T> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => isObject(entry))) as Record<string, T>;
}

export function parseNetConfig(text: string | undefined): NetConfig {
  if (text === undefined) return EMPTY_NET_CONFIG;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return EMPTY_NET_CONFIG;
  }
  if (!isObject(parsed)) return EMPTY_NET_CONFIG;
  return { networks: objectEntries(parsed['networks']), bonds: objectEntries(parsed['bonds']) };
}
