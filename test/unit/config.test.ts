import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfig, isLoopback, loadConfig, parseListen } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'hostvisor-config-'));
function iniFile(text: string): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, text);
  return file;
}

describe('config precedence: defaults < file < environment < flags', () => {
  it('uses the embedded default with no input at all', () => {
    const { config, sources } = loadConfig();
    expect(config.libvirt.uri).toBe('test:///default');
    expect(config.addresses.management_ip).toBe('127.0.0.1');
    expect(config.addresses.management_port).toBe(54321);
    expect(config.vars.ssl).toBe(false);
    expect(config.rpc.worker_threads).toBe(8);
    expect(config.sampling.max_workers).toBe(30);
    expect(config.health.check_interval).toBe(300);
    expect(sources.get('vars.vm_sample_interval')).toBe('default');
  });

  it('lets each layer override the one below and records where each value came from', () => {
    const file = iniFile('[vars]\nvm_sample_interval = 5\nhost_sample_stats_interval = 7\n[rpc]\nworker_threads = 3\n');
    const { config, sources } = loadConfig({
      file,
      env: { HOSTVISOR_VARS_HOST_SAMPLE_INTERVAL: 'x', HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '2', HOSTVISOR_RPC_WORKER_THREADS: '4' },
      flags: { 'rpc.worker_threads': '6' },
    });
    expect(config.vars.vm_sample_interval).toBe(5);
    expect(sources.get('vars.vm_sample_interval')).toBe(`file:${file}`);
    expect(config.vars.host_sample_stats_interval).toBe(2);
    expect(sources.get('vars.host_sample_stats_interval')).toBe('env:HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL');
    expect(config.rpc.worker_threads).toBe(6);
    expect(sources.get('rpc.worker_threads')).toBe('flag:--rpc.worker_threads');
  });

  it('maps environment names onto sections that contain underscores', () => {
    const { config } = loadConfig({ env: { HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: '/run/ch', HOSTVISOR_GUEST_AGENT_MAX_WORKERS: '9' } });
    expect(config.guest_agent.channels_dir).toBe('/run/ch');
    expect(config.guest_agent.max_workers).toBe(9);
  });

  it('accepts sub-second intervals so tests can run fast', () => {
    const { config } = loadConfig({ env: { HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '0.5' } });
    expect(config.vars.vm_sample_interval).toBe(0.5);
  });

  it('warns about unknown keys, sections and variables without failing', () => {
    const file = iniFile('[vars]\nno_such_key = 1\n[nosection]\na = b\n');
    const { warnings } = loadConfig({ file, env: { HOSTVISOR_NOPE_X: '1', UNRELATED: 'x' } });
    expect(warnings).toEqual([
      `${file}: unknown key [vars] no_such_key ignored`,
      `${file}: unknown key [nosection] a ignored`,
      'environment: unknown variable HOSTVISOR_NOPE_X ignored',
    ]);
  });

  it('parses booleans, lists and log levels in their usual spellings', () => {
    const file = iniFile('[metrics]\nenabled = no\n[sampling]\nstatvfs_paths = /a, /b ,\n[logging]\nlevel = DEBUG\n');
    const { config } = loadConfig({ file });
    expect(config.metrics.enabled).toBe(false);
    expect(config.sampling.statvfs_paths).toEqual(['/a', '/b']);
    expect(config.logging.level).toBe('debug');
  });
});

describe('bad values refuse to start with one line naming where, section, key, value and what is allowed', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['[vars]\nvm_sample_interval = soon\n', 'a word for seconds', /\[vars\] vm_sample_interval = "soon": expected seconds, a number from 0\.1 to 86400/],
    ['[vars]\nvm_sample_interval = -1\n', 'a negative interval', /vm_sample_interval = "-1": expected seconds/],
    ['[vars]\nvm_sample_interval = 0\n', 'an interval of zero', /vm_sample_interval = "0": expected seconds/],
    ['[rpc]\nworker_threads = 2.5\n', 'a fraction for a count', /\[rpc\] worker_threads = "2.5": expected a whole number >= 1/],
    ['[rpc]\nworker_threads = 0\n', 'a count below its minimum', /worker_threads = "0": expected a whole number >= 1/],
    ['[addresses]\nmanagement_port = 70000\n', 'a port out of range', /management_port = "70000": expected a whole number from 0 to 65535/],
    ['[vars]\nssl = maybe\n', 'a non-boolean', /\[vars\] ssl = "maybe": expected true or false/],
    ['[logging]\nlevel = loud\n', 'an unknown log level', /\[logging\] level = "loud": expected one of trace, debug, info/],
    ['[addresses]\nmanagement_ip =\n', 'an empty address', /\[addresses\] management_ip = "": expected non-empty text/],
  ];
  for (const [text, what, message] of cases) {
    it(`rejects ${what}`, () => {
      const file = iniFile(text);
      expect(() => loadConfig({ file })).toThrowError(ConfigError);
      expect(() => loadConfig({ file })).toThrowError(message);
      expect(() => loadConfig({ file })).toThrowError(`bad config value in ${file}:`);
    });
  }

  it('names the environment variable a bad value came from', () => {
    expect(() => loadConfig({ env: { HOSTVISOR_RPC_WORKER_TIMEOUT: 'never' } })).toThrowError(
      'bad config value in environment HOSTVISOR_RPC_WORKER_TIMEOUT: [rpc] worker_timeout = "never"',
    );
  });

  it('names a file that cannot be read', () => {
    expect(() => loadConfig({ file: join(dir, 'missing.conf') })).toThrowError(/cannot read config file .*missing\.conf/);
  });
});

describe('plaintext listening', () => {
  it('is refused on a non-loopback address without TLS, saying why', () => {
    expect(() => loadConfig({ flags: parseListen('0.0.0.0:54321') })).toThrowError(
      /refusing to listen on 0\.0\.0\.0 \(from flag:--listen\) without TLS: anyone who reaches the port could drive the host/,
    );
    expect(() => loadConfig({ flags: parseListen('[::]:54321') })).toThrowError(/refusing to listen on ::/);
  });

  it('is allowed with TLS, on loopback, or when explicitly allowed', () => {
    expect(loadConfig({ flags: { ...parseListen('0.0.0.0:1'), 'vars.ssl': 'true' } }).config.vars.ssl).toBe(true);
    expect(loadConfig({ flags: parseListen('[::1]:1') }).config.addresses.management_ip).toBe('::1');
    expect(loadConfig({ flags: { ...parseListen('10.0.0.1:1'), 'vars.allow_plaintext_remote': 'yes' } }).config.addresses.management_port).toBe(1);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.org'].some(isLoopback)).toBe(false);
  });

  it('rejects a malformed --listen', () => {
    expect(() => parseListen('54321')).toThrowError(/expected HOST:PORT/);
    expect(() => parseListen('::1:54321')).toThrowError(/expected HOST:PORT or \[IPV6\]:PORT/);
  });
});

describe('--print-config', () => {
  it('prints every value with where it came from, in INI form', () => {
    const text = formatConfig(loadConfig({ env: { HOSTVISOR_VARS_SSL: 'true' } }));
    expect(text).toContain('[vars]\nssl = true  ; env:HOSTVISOR_VARS_SSL\n');
    expect(text).toContain('management_port = 54321  ; default');
    expect(text).toContain('statvfs_paths = /tmp,/var/log,/var/lib/libvirt  ; default');
  });
});
