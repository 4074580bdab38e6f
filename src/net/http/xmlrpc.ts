/**
 * XML-RPC on `POST /` and `POST /RPC2` (the stdlib server's paths, which vdsm used): body read
 * within its limit, decoded strictly (no DOCTYPE, bounded depth and values), handed to the
 * backend, the result encoded as a methodResponse. Malformed calls and backend failures are
 * faults (as Python's SimpleXMLRPCDispatcher answered them: code 1); the HTTP status stays 200.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import { decodeMethodCall, XmlRpcDecodeError, type DecodeLimits } from '../xmlrpc/decode.js';
import { encodeFault, encodeResponse } from '../xmlrpc/encode.js';
import { readBody } from './body.js';
import type { XmlRpcBackend } from './xmlrpc-backend.js';

export const XMLRPC_PATHS: ReadonlySet<string> = new Set(['/', '/RPC2']);

/** Python 2's SimpleXMLRPCDispatcher answered every marshalling problem with fault code 1. */
export const FAULT_CODE = 1;

export interface XmlRpcRouteOptions {
  readonly backend: XmlRpcBackend | undefined;
  readonly maxBodySize: number;
  readonly limits: DecodeLimits;
  readonly log: Logger;
}

export class XmlRpcRoute {
  constructor(private readonly options: XmlRpcRouteOptions) {}

  async serve(req: IncomingMessage, res: ServerResponse, peer: string): Promise<void> {
    const body = await readBody(req, res, this.options.maxBodySize);
    if (body === undefined) {
      this.options.log.info({ peer, limit: this.options.maxBodySize }, 'XML-RPC request refused: body too large or aborted');
      return;
    }
    const xml = await this.answer(body, req, peer);
    const bytes = Buffer.from(xml, 'utf8');
    res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': bytes.length });
    res.end(bytes);
  }

  private async answer(body: Buffer, req: IncomingMessage, peer: string): Promise<string> {
    const log = this.options.log;
    let call;
    try {
      call = decodeMethodCall(body.toString('utf8'), this.options.limits);
    } catch (err) {
      const message = err instanceof XmlRpcDecodeError ? err.message : String(err);
      log.info({ peer, error: message }, 'malformed XML-RPC call: fault');
      return encodeFault(FAULT_CODE, message);
    }
    const backend = this.options.backend;
    if (backend === undefined) return encodeFault(FAULT_CODE, 'XML-RPC is not served by this daemon');
    const flowHeader = req.headers['flowid'];
    const ctx = {
      peer,
      remoteAddress: unmapped(req.socket.remoteAddress ?? ''),
      flowId: Array.isArray(flowHeader) ? flowHeader[0] : flowHeader,
    };
    try {
      const result = await backend.call(call.method, call.params, ctx);
      return encodeResponse(result);
    } catch (err) {
      log.error({ peer, method: call.method, err }, 'XML-RPC call failed: fault');
      return encodeFault(FAULT_CODE, `${(err as Error).name ?? 'Error'}:${(err as Error).message ?? String(err)}`);
    }
  }
}

/** `::ffff:192.0.2.7` → `192.0.2.7`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
