/** What the network unit tests share: the engine's install request and how a refusal reads. */
import { NetworkError } from '../../src/network/errors.js';

/** The management network of a host install (static IPv4, no IPv6 address), as the engine sends it. */
export const INSTALL_NETWORK = {
  nic: 'eth0', mtu: 1500, bridged: 'true', STP: 'no',
  ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1',
  dhcpv6: false, ipv6autoconf: false, defaultRoute: true, switch: 'legacy',
};

/** The NetworkError `run` throws, as code and message; the test fails when it throws none. */
export function refusal(run: () => unknown): { code: number; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof NetworkError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a NetworkError');
}
