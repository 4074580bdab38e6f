/**
 * A result that is already JSON text. A handler with a large answer (Host.getAllVmStats on a
 * host of a thousand VMs is over a megabyte) encodes it in slices between turns of the event loop
 * and hands the text over; the engine puts it on the wire as it is, instead of one long
 * JSON.stringify that would hold the loop.
 */
export class RawJson {
  constructor(readonly text: string) {}

  /** For consumers that need the value (XML-RPC), and for JSON.stringify of anything holding one. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
