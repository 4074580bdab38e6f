/**
 * STOMP over WebSocket (subprotocols v12.stomp / v11.stomp): a WebSocket as a StompTransport for
 * the same StompServer the TCP clients use. One frame per message each way, as browser STOMP
 * clients (@stomp/stompjs) expect; frames that are valid UTF-8 go as text messages.
 */
import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import type { StompTransport, TransportListener } from '../stomp/transport.js';

export class WebSocketTransport implements StompTransport {
  private closed = false;

  constructor(private readonly ws: WebSocket) {}

  listen(listener: TransportListener): void {
    this.ws.on('message', (data: Buffer) => listener.data(data));
    this.ws.on('close', () => {
      this.closed = true;
      listener.close();
    });
    this.ws.on('error', (err) => listener.error(err));
  }

  send(frames: readonly (Buffer | string)[]): void {
    for (const frame of frames) {
      const text = typeof frame === 'string' || isUtf8(frame);
      this.ws.send(frame, { binary: !text });
    }
  }

  get queuedBytes(): number {
    return this.ws.bufferedAmount;
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.closed = true;
    this.ws.terminate();
  }

  get destroyed(): boolean {
    return this.closed || this.ws.readyState === this.ws.CLOSED;
  }
}
