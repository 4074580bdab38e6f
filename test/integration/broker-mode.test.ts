/**
 * Broker mode against a real RabbitMQ (STOMP plugin on 61613): hosts connect out, take requests
 * from their own queue, answer to the engine's temp queue, publish events, survive a broker
 * restart, and never answer a request twice. Skipped when rabbitmq-server is not installed
 * (scripts/setup.sh installs it).
 */
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthReport } from '../../src/net/http/health.js';
import type { Method } from '../../src/rpc/method-table.js';
import { startDaemon } from '../helpers/daemon.js';
import { ensureRabbit, rabbitInstalled, restartRabbit, stopRabbit } from '../helpers/rabbitmq.js';
import { EngineClient, startBrokerHost, startRelay, type BrokerHost } from './broker-harness.js';
import { RawClient, ping, sendFrame, sleep } from './front-harness.js';

function methodsFor(name: string): Method[] {
  return [
    { name: 'Test.whoami', params: [], handler: () => name },
    { name: 'Test.slow', params: [{ name: 'ms', schema: Type.Integer() }], handler: async (a) => (await sleep(a['ms'] as number), name) },
  ];
}

async function eventually<T>(check: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`timed out: ${what}`)))]);
}

describe('broker mode over RabbitMQ', () => {
  const hosts: BrokerHost[] = [];
  let engine: EngineClient;
  let startedRabbit = false;

  beforeAll(async () => {
    // scripts/setup.sh installs it; without it this suite fails rather than pass unseen.
    if (!rabbitInstalled()) throw new Error('rabbitmq-server is not installed: run scripts/setup.sh');
    startedRabbit = await ensureRabbit();
    hosts.push(await startBrokerHost('bk-alpha', methodsFor('bk-alpha')));
    hosts.push(await startBrokerHost('bk-beta', methodsFor('bk-beta')));
    engine = await EngineClient.connect();
  }, 90_000);

  afterAll(async () => {
    engine?.close();
    await Promise.all(hosts.map((h) => h.stop()));
    if (startedRabbit) await stopRabbit();
  });

  it('serves requests from its queue and answers to the temp-queue reply-to', async () => {
    const [alpha] = hosts;
    expect(alpha!.queue).toBe('/queue/hostvisor.requests.bk-alpha');
    expect(await engine.request(alpha!.queue, 'Host.ping2')).toMatchObject({ result: true });
    expect(await engine.request(alpha!.queue, 'Test.slow', { ms: 20 })).toMatchObject({ result: 'bk-alpha' });
    expect((await engine.request(alpha!.queue, 'No.such')).error?.code).toBe(-32601);
    // The reply came to RabbitMQ's reply queue for our temp queue, carrying the flow id back.
    engine.sendRaw(alpha!.queue, ping('with-flow'), [['ovirtCorrelationId', 'flow-42']]);
    const m = await eventually(() => engine.messages.find((f) => f.body.toString().includes('with-flow')), 5000, 'flow reply');
    expect(m.headers.get('ovirtCorrelationId')).toBe('flow-42');
    expect(m.headers.get('content-type')).toBe('application/json');
    const s = alpha!.broker.status()!;
    expect(s).toMatchObject({ state: 'connected', connected: true, attempts: 0, redeliveredDropped: 0 });
  });

  it('lets the real daemon serve its VM list through the broker, next to direct clients', async () => {
    const daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      HOSTVISOR_VARS_BROKER_ENABLE: 'true',
      HOSTVISOR_BROKER_HOST_NAME: 'bk-daemon',
    });
    try {
      await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000);
      // The daemon subscribes once its link is up, shortly after it is ready; a send before that
      // goes unrouted, so ask again until it answers.
      let answer: Awaited<ReturnType<EngineClient['request']>> | undefined;
      for (const deadline = Date.now() + 20_000; answer?.result === undefined && Date.now() < deadline; await sleep(200)) {
        answer = await within(engine.request('/queue/hostvisor.requests.bk-daemon', 'Host.getVMList'), 2000, 'answer').catch(() => undefined);
      }
      expect(answer?.result).toEqual([{ vmId: '6695eb01-f6a4-8304-79aa-97f2502e193f', status: 'Up', statusTime: expect.any(String) }]);
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    }
  }, 60_000);

  it('keeps serving direct clients on the management port at the same time', async () => {
    const direct = await RawClient.connect(hosts[0]!.front.port);
    direct.send(sendFrame('CONNECT', { 'accept-version': '1.2' }));
    direct.send(sendFrame('SUBSCRIBE', { destination: 'direct-replies', id: 's1' }));
    direct.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'direct-replies' }, ping('direct-1')));
    const [viaBroker, viaDirect] = await Promise.all([
      engine.request(hosts[0]!.queue, 'Test.whoami'),
      direct.frame((f) => f.command === 'MESSAGE'),
    ]);
    expect(viaBroker.result).toBe('bk-alpha');
    expect(JSON.parse(viaDirect.body.toString())).toMatchObject({ id: 'direct-1', result: true });
    direct.close();
  });

  it('two hosts on one broker each answer only their own queue', async () => {
    const [alpha, beta] = hosts as [BrokerHost, BrokerHost];
    const before = [alpha.broker.status()!.served, beta.broker.status()!.served];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.request(i % 2 === 0 ? alpha.queue : beta.queue, 'Test.whoami')),
    );
    answers.forEach((a, i) => expect(a.result).toBe(i % 2 === 0 ? 'bk-alpha' : 'bk-beta'));
    expect(alpha.broker.status()!.served - before[0]!).toBe(10);
    expect(beta.broker.status()!.served - before[1]!).toBe(10);
  });

  it('publishes VM and host events to the events destination', async () => {
    const got: unknown[] = [];
    await engine.subscribe('/topic/hostvisor.events.*', (body) => got.push(body));
    hosts[0]!.front.front.events.emit('virt', 'VM_status', 'vm-1', { 'vm-1': { status: 'Up' } });
    hosts[1]!.front.front.events.emit('host', 'resources', 'no_id', { cpu: 1 });
    await eventually(() => got.length >= 2, 5000, 'two events');
    expect(got).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: '|virt|VM_status|vm-1', params: expect.objectContaining({ 'vm-1': { status: 'Up' } }) }),
        expect.objectContaining({ method: '|host|resources|no_id' }),
      ]),
    );
    expect(hosts[0]!.broker.status()!.eventsPublished).toBeGreaterThanOrEqual(1);
  });

  it('a request taken by a session that dies is answered once, never again on redelivery', async () => {
    // gamma reaches the broker through a relay the test can cut.
    const relay = await startRelay();
    const gamma = await startBrokerHost('bk-gamma', methodsFor('bk-gamma'), { 'vars.broker_port': String(relay.port) });
    try {
      const answers: unknown[] = [];
      const slow = engine.request(gamma.queue, 'Test.slow', { ms: 1500 }, 15_000).then((a) => (answers.push(a.result), a));
      await sleep(300); // taken by gamma, being served, not ACKed
      relay.dropAll();
      await eventually(() => !gamma.broker.status()!.connected, 5000, 'link down');
      await within(gamma.broker.ready(), 20_000, 'reconnection');
      // The broker requeued the unACKed request and gave it again: dropped, not served twice.
      await eventually(() => gamma.broker.status()!.redeliveredDropped === 1, 10_000, 'the redelivered copy dropped');
      // The first serving's reply still reaches the engine, on the new session.
      expect(await slow).toMatchObject({ result: 'bk-gamma' });
      await sleep(2000); // a second answer, if any, would have come by now
      expect(answers).toEqual(['bk-gamma']);
      expect(gamma.broker.status()).toMatchObject({ served: 1, sessions: 2, redeliveredDropped: 1 });
      expect(await engine.request(gamma.queue, 'Test.whoami')).toMatchObject({ result: 'bk-gamma' });
    } finally {
      await gamma.stop();
      await relay.close();
    }
  }, 60_000);

  it('a silent broker is noticed by its missing heart-beats, and the link comes back', async () => {
    const relay = await startRelay();
    const gamma = await startBrokerHost('bk-delta', methodsFor('bk-delta'), { 'vars.broker_port': String(relay.port) });
    try {
      relay.freeze(true);
      const down = await eventually(() => (gamma.broker.status()!.connected ? undefined : gamma.broker.status()!), 10_000, 'link down');
      expect(down.lastError).toMatch(/heart-beat/);
      relay.freeze(false);
      await within(gamma.broker.ready(), 20_000, 'reconnection');
      expect(await engine.request(gamma.queue, 'Test.whoami')).toMatchObject({ result: 'bk-delta' });
    } finally {
      await gamma.stop();
      await relay.close();
    }
  }, 60_000);

  it('reconnects after the broker restarts, resubscribes and serves again; /health says so meanwhile', async () => {
    const [alpha, beta] = hosts as [BrokerHost, BrokerHost];
    const sessionsBefore = alpha.broker.status()!.sessions;
    engine.close();
    const restarting = restartRabbit();
    const down = await eventually(() => (alpha.broker.status()!.connected ? undefined : alpha.broker.status()!), 20_000, 'link down');
    expect(['reconnecting', 'connecting']).toContain(down.state);
    const report = healthReport(
      { hypervisorConnected: true, executors: [], hostSampleAge: 0, vmSampleAge: 0, broker: down },
      { maxHostSampleAge: 10, maxVmSampleAge: 10 },
    );
    expect(report.healthy).toBe(false);
    expect(report.problems.join()).toMatch(/broker not connected/);
    await restarting;
    await within(Promise.all([alpha.broker.ready(), beta.broker.ready()]), 30_000, 'reconnection after restart');
    const up = alpha.broker.status()!;
    expect(up).toMatchObject({ state: 'connected', attempts: 0 });
    expect(up.sessions).toBeGreaterThan(sessionsBefore);
    engine = await EngineClient.connect();
    expect(await engine.request(alpha.queue, 'Test.whoami')).toMatchObject({ result: 'bk-alpha' });
    expect(await engine.request(beta.queue, 'Test.whoami')).toMatchObject({ result: 'bk-beta' });
  }, 90_000);
});
