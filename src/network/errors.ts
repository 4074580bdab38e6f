/**
 * How a network verb fails, in vdsm's codes (lib/vdsm/network/errors.py plus the generic
 * "unavailable"): the engine maps each code to its own error name and shows the message as is, so
 * both are kept exactly as vdsm sends them (`{code, message}`, no prefix on the message).
 */

export const NetworkErrorCode = {
  /** vdsm's ERR_LOST_CONNECTION (= noConPeer): the connectivity check saw no client. */
  lostConnection: 10,
  badParams: 21,
  badAddr: 22,
  badNic: 23,
  usedNic: 24,
  badBonding: 25,
  badVlan: 26,
  badBridge: 27,
  /** vdsm's ERR_FAILED_IFUP: a device did not come up (here: no DHCP lease). */
  failedIfup: 29,
  usedBond: 31,
  /** Another setupNetworks or setSafeNetworkConfig is running. */
  unavailable: 40,
} as const;
export type NetworkErrorCode = (typeof NetworkErrorCode)[keyof typeof NetworkErrorCode];

/** vdsm's ConfigNetworkError: a refused or failed network change, `message` being the wire text. */
export class NetworkError extends Error {
  override name = 'NetworkError';

  constructor(
    readonly code: NetworkErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}
