/**
 * A result that is already JSON text, in pieces. A handler with a large answer (Host.getAllVmStats
 * on a host of a thousand VMs is over a megabyte) encodes it in slices between turns of the event
 * loop and hands the pieces over; the engine and the transport put them on the wire as they are,
 * instead of one long JSON.stringify that would hold the loop, and without copying megabytes into
 * one string at each layer (large strings live in the old generation until a full GC).
 */
export class RawJson {
  constructor(readonly pieces: readonly string[]) {}

  /** The whole text: a copy, for consumers that need one string. */
  get text(): string {
    return this.pieces.join('');
  }

  /** For consumers that need the value (XML-RPC), and for JSON.stringify of anything holding one. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
