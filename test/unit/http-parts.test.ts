import { describe, expect, it } from 'vitest';
import { healthReport } from '../../src/net/http/health.js';
import { chooseSubprotocol, originAllowed } from '../../src/net/http/websocket.js';

describe('subprotocol choice', () => {
  it('STOMP first (newest), then jsonrpc, then none; others refused', () => {
    expect(chooseSubprotocol('v10.stomp, v11.stomp, v12.stomp')).toEqual({ kind: 'stomp', protocol: 'v12.stomp' });
    expect(chooseSubprotocol('v11.stomp')).toEqual({ kind: 'stomp', protocol: 'v11.stomp' });
    expect(chooseSubprotocol('jsonrpc')).toEqual({ kind: 'jsonrpc', protocol: 'jsonrpc' });
    expect(chooseSubprotocol(undefined)).toEqual({ kind: 'jsonrpc', protocol: undefined });
    expect(chooseSubprotocol('mqtt, v10.stomp').kind).toBe('refused');
  });
});

describe('Origin allow-list', () => {
  it('no Origin is allowed; an empty list refuses every browser; * allows all; case-insensitive', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('https://a.example', [])).toBe(false);
    expect(originAllowed('https://A.example', ['https://a.example'])).toBe(true);
    expect(originAllowed('https://b.example', ['https://a.example'])).toBe(false);
    expect(originAllowed('null', ['*'])).toBe(true);
  });
});

describe('health verdict', () => {
  const limits = { maxHostSampleAge: 45, maxVmSampleAge: 45 };
  it('healthy with fresh samples and no executors', () => {
    expect(healthReport({ hypervisorConnected: true, executors: [], hostSampleAge: 0, vmSampleAge: 45 }, limits)).toMatchObject({ healthy: true, problems: [] });
  });
  it('each failing check is named', () => {
    const r = healthReport({ hypervisorConnected: false, executors: [], hostSampleAge: null, vmSampleAge: 45.5 }, limits);
    expect(r.healthy).toBe(false);
    expect(r.problems).toEqual(['hypervisor not connected', 'no host sample yet', 'last VM sample 45.5 s old (limit 45 s)']);
  });
});
