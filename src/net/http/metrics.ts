/**
 * GET /metrics: the daemon's prom-client registry in Prometheus text format. The figures are
 * registered by the metrics part (the same ones that go to statsd); this route only exposes them.
 */
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import { sendText } from './respond.js';

export class MetricsRoute {
  constructor(
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  async serve(res: ServerResponse): Promise<void> {
    let text: string;
    try {
      text = await this.registry.metrics();
    } catch (err) {
      this.log.error({ err }, 'collecting metrics failed');
      sendText(res, 500, 'collecting metrics failed\n');
      return;
    }
    sendText(res, 200, text, { 'Content-Type': this.registry.contentType, 'Cache-Control': 'no-store' });
  }
}
