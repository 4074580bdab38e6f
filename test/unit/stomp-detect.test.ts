import { describe, expect, it } from 'vitest';
import { detectProtocol } from '../../src/net/detect.js';

const d = (s: string) => detectProtocol(Buffer.from(s, 'latin1'));

describe('protocol detection (stomp_detector_test, http_detector_test)', () => {
  it.each(['MESSAGE', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'CONNECT', 'CONNECTED', 'ERROR', 'RECEIPT', 'DISCONNECT'])(
    'detects STOMP %s',
    (cmd) => {
      expect(d(`${cmd}\naccept-version:1.2\n\n\0`)).toBe('stomp');
      expect(d(`${cmd}\r\n`)).toBe('stomp');
    },
  );

  it("detects STOMP 1.2's STOMP command and leading heart-beat newlines (vdsm rejects both)", () => {
    expect(d('STOMP\naccept-version:1.2\n\n\0')).toBe('stomp');
    expect(d('\nCONNECT\n\n\0')).toBe('stomp');
    expect(d('\r\n\r\nSEND\n')).toBe('stomp');
  });

  it.each(['smth', '\x23\x54', 'no such protocol\n', 'CONNECTX\n', 'SEND \n', 'get /', '\nGET /'])('rejects %j', (s) => {
    expect(d(s)).toBe('unknown');
  });

  it.each(['GET /', 'PUT /', 'POST /RPC2 HTTP/1.1\r\n', 'CONNECT /x HTTP/1.1'])('detects HTTP %j', (s) => {
    expect(d(s)).toBe('http');
  });

  it('waits while the bytes could still be either', () => {
    for (const s of ['', '\n', 'C', 'CONN', 'CONNECT', 'GET', 'GET ', 'SUBSCRIB', 'PO']) expect(d(s)).toBe('more');
  });

  it('gives up on endless newlines', () => {
    expect(d('\n'.repeat(5000))).toBe('unknown');
  });

  it('a long upper-case token is not a method', () => {
    expect(d('A'.repeat(40))).toBe('unknown');
  });
});
