/** The guests' process: fake oVirt guest agents bound under the daemon's channels folder. */
import { FakeGuest } from '../../test/doubles/fake-guest.js';
import { type Msg, onMessage } from './common.js';

const APPS = Array.from({ length: 30 }, (_, i) => `package-${i}-1.${i}.${i % 7}-3.el8.x86_64`);

export async function runGuests(): Promise<void> {
  const { paths } = await onMessage<Msg & { paths: string[] }>(process, 'start');
  const guests = paths.map((p) => new FakeGuest(p));
  await Promise.all(guests.map((g) => g.listen()));
  process.send!({ type: 'listening' });
  const seen = new Array<number>(guests.length).fill(0);
  const hello = (g: FakeGuest, i: number): void => {
    g.heartbeat(String(256 + (i % 512)), 3);
    g.send('host-name', { name: `guest-${i}` });
    g.send('os-version', { version: '4.18.0-513.el8.x86_64' });
    g.send('fqdn', { fqdn: `guest-${i}.example.com` });
    g.send('network-interfaces', { interfaces: [{ name: 'eth0', hw: '52:54:00:00:00:01', inet: [`10.0.${i >> 8}.${i & 255}`], inet6: [] }] });
    g.send('applications', { applications: APPS });
  };
  // Every 100 ms: any guest with a new connection says hello (what OGA sends on a refresh), and a
  // fiftieth of the guests send their heartbeat, so each guest beats every 5 s, as OGA does.
  const perTick = Math.ceil(guests.length / 50);
  let next = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < guests.length; i++) {
      const g = guests[i]!;
      if (g.connections !== seen[i] && g.connected) {
        seen[i] = g.connections;
        hello(g, i);
      }
      // What the host sent is not needed: keep the fake's memory flat over a long run.
      if (g.received.length > 100) g.received.length = 0;
    }
    for (let k = 0; k < perTick; k++) {
      guests[next]!.heartbeat(String(256 + (next % 512)), 3);
      next = (next + 1) % guests.length;
    }
  }, 100);
  process.on('message', (msg: Msg) => {
    if (msg.type === 'status') {
      process.send!({
        type: 'status',
        connected: guests.filter((g) => g.connected).length,
        reconnected: guests.filter((g) => g.connections >= 2 && g.connected).length,
        connections: guests.reduce((n, g) => n + g.connections, 0),
      });
    } else if (msg.type === 'stop') {
      clearInterval(timer);
      void Promise.all(guests.map((g) => g.close())).then(() => process.exit(0));
    }
  });
}
