/**
 * Load and soak: the real daemon (`node dist/src/main.js`) as a child process on a
 * generated host of 1000 VMs, 1000 fake oVirt guest agents bound under its channels folder (a
 * second child process), metrics on and sent to a UDP port this process listens on, short
 * sampling intervals; 16 engine connections (a third child process, raw STOMP so that every
 * answer is counted by id, duplicates included) doing a mix of verbs and holding
 * `jms.queue.events` subscriptions, for `--minutes N`. Then SIGTERM in the middle of the load,
 * and a restart on the same host.
 *
 * Criteria (PASS/FAIL each):
 * - every request id answered exactly once during the soak, and no unexpected error answer;
 * - the daemon's RSS (/proc/<pid>/status VmRSS, every 2 s) grows under 5 % after the warm-up,
 *   read along the least-squares line through the samples (the first and last 30 s means are
 *   shown too; GC cycles swing them by ±10 %);
 * - event-loop delay p99 under 20 ms. Read from the daemon's own statsd gauge
 *   `hosts.vdsm.event_loop.delay_p99_ms` (one per health check, the histogram reset each time;
 *   the daemon reports the delay beyond its 20 ms sampling timer). The verdict
 *   uses the largest per-interval p99 after the warm-up, an upper bound of the run's p99;
 * - SIGTERM under load (the steady load plus a burst of 9 requests on every connection sent just
 *   before the signal): exit 0, every request either answered once or left unanswered only
 *   because its connection closed before the daemon read it. The daemon reads a connection's
 *   frames in order, so an unanswered request followed by an answered one on the same connection
 *   (a hole) was read and dropped: there must be none. No "unanswered at the drain deadline" line;
 * - restart on the same host: Host.getVMList has every VM, every guest channel reconnects and
 *   each fake guest's data (guestName) is back in VM.getStats.
 *
 *   npm run bench:soak [-- --minutes 10 --rate 20 --vms 1000 --connections 16]
 */
import { drive } from './driver.js';
import { runEngine } from './engine.js';
import { runGuests } from './guests.js';

// The same entry runs every process of the soak: the driver forks it with a role.
const role = process.argv[2];
if (role === 'guests') await runGuests();
else if (role === 'engine') await runEngine();
else await drive();
