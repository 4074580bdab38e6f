/**
 * Loads the effective config with precedence defaults < file < environment < flags.
 * Every value is checked against its setting; a bad one is a ConfigError whose message is one
 * line naming where it came from, the section, the key, the value and what is allowed.
 * Unknown keys are warnings: a typo should be visible but not stop a host.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import ini from 'ini';
import { schema, type Config } from './schema.js';
import type { Setting } from './settings.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where one value came from: `default`, `file:PATH`, `env:NAME` or `flag:--NAME`. */
export type Source = string;

export interface LoadedConfig {
  config: Config;
  /** `section.key` → where its value came from. */
  sources: Map<string, Source>;
  warnings: string[];
}

export interface ConfigInputs {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, as `section.key` → raw string. */
  flags?: Record<string, string>;
}

const ENV_PREFIX = 'HOSTVISOR_';
type AnySection = Record<string, Setting<unknown>>;
const sections = schema as unknown as Record<string, AnySection>;

export function loadConfig(inputs: ConfigInputs = {}): LoadedConfig {
  const values: Record<string, Record<string, unknown>> = {};
  const sources = new Map<string, Source>();
  const warnings: string[] = [];
  for (const [section, keys] of Object.entries(sections)) {
    values[section] = {};
    for (const [key, s] of Object.entries(keys)) {
      values[section]![key] = s.default;
      sources.set(`${section}.${key}`, 'default');
    }
  }

  const assign = (section: string, key: string, raw: string, source: Source, where: string): void => {
    const s = sections[section]?.[key];
    if (!s) {
      warnings.push(`${where}: unknown key [${section}] ${key} ignored`);
      return;
    }
    const parsed = s.parse(raw);
    if (parsed === undefined) {
      throw new ConfigError(`bad config value in ${where}: [${section}] ${key} = ${JSON.stringify(raw)}: expected ${s.allowed}`);
    }
    values[section]![key] = parsed;
    sources.set(`${section}.${key}`, source);
  };

  if (inputs.file) {
    for (const [section, key, raw] of readIni(inputs.file)) {
      assign(section, key, raw, `file:${inputs.file}`, inputs.file);
    }
  }
  for (const [name, raw] of Object.entries(inputs.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const target = envTarget(name.slice(ENV_PREFIX.length));
    if (!target) {
      warnings.push(`environment: unknown variable ${name} ignored`);
      continue;
    }
    assign(target[0], target[1], raw, `env:${name}`, `environment ${name}`);
  }
  for (const [dotted, raw] of Object.entries(inputs.flags ?? {})) {
    const [section, key] = dotted.split('.') as [string, string];
    assign(section, key, raw, `flag:${flagName(dotted)}`, `flag ${flagName(dotted)}`);
  }

  const config = values as unknown as Config;
  checkPlaintextListen(config, sources);
  return { config, sources, warnings };
}

function readIni(file: string): Array<[string, string, string]> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const out: Array<[string, string, string]> = [];
  for (const [section, body] of Object.entries(ini.parse(text))) {
    if (body === null || typeof body !== 'object') {
      out.push(['(no section)', section, String(body)]);
      continue;
    }
    for (const [key, raw] of Object.entries(body as Record<string, unknown>)) {
      out.push([section, key, String(raw)]);
    }
  }
  return out;
}

/** HOSTVISOR_GUEST_AGENT_CHANNELS_DIR → [guest_agent, channels_dir]: sections may hold underscores. */
function envTarget(rest: string): [string, string] | undefined {
  const lower = rest.toLowerCase();
  for (const section of Object.keys(sections).sort((a, b) => b.length - a.length)) {
    if (lower.startsWith(`${section}_`)) return [section, lower.slice(section.length + 1)];
  }
  return undefined;
}

const FLAG_NAMES: Record<string, string> = {
  'addresses.management_ip': '--listen',
  'addresses.management_port': '--listen',
  'libvirt.uri': '--libvirt-uri',
  'logging.level': '--log-level',
};

function flagName(dotted: string): string {
  return FLAG_NAMES[dotted] ?? `--${dotted}`;
}

/** Parses `HOST:PORT` or `[V6]:PORT` into the two address keys. */
export function parseListen(value: string): { 'addresses.management_ip': string; 'addresses.management_port': string } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`bad flag --listen ${JSON.stringify(value)}: expected HOST:PORT or [IPV6]:PORT`);
  return { 'addresses.management_ip': m[1]!, 'addresses.management_port': m[2]! };
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host.toLowerCase().startsWith('::ffff:127.');
}

function checkPlaintextListen(config: Config, sources: Map<string, Source>): void {
  const ip = config.addresses.management_ip;
  if (config.vars.ssl || config.vars.allow_plaintext_remote || isLoopback(ip)) return;
  throw new ConfigError(
    `refusing to listen on ${ip} (from ${sources.get('addresses.management_ip')}) without TLS: ` +
      'anyone who reaches the port could drive the host. Turn on [vars] ssl, listen on loopback, ' +
      'or set [vars] allow_plaintext_remote = true if the network is trusted',
  );
}

/** The effective config as INI, each value followed by where it came from. */
export function formatConfig({ config, sources }: LoadedConfig): string {
  const lines: string[] = [];
  for (const [section, keys] of Object.entries(sections)) {
    lines.push(`[${section}]`);
    for (const [key, s] of Object.entries(keys)) {
      const value = (config as unknown as Record<string, Record<string, unknown>>)[section]![key];
      lines.push(`${key} = ${s.format(value)}  ; ${sources.get(`${section}.${key}`)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
