/**
 * Every figure the daemon reports, with vdsm's statsd names (docs/protocol.md, "Metrics names"):
 * - HEALTH: what vdsm's health monitor sends today (`hosts.vdsm.*`); the RSS is KiB as vdsm's.
 * - HOST: the host names vdsm sent until 2017 (`hosts.*`), from Host.getStats. Figures the
 *   daemon does not have (memAvailable, memCommitted, KSM, a hosted-engine HA score) are sent when
 *   the stats carry them, so they appear once something computes them.
 * - VM: the per-VM names vdsm sent until 2018 (`vms.<vmName>.*`), from the VM stats element.
 * - DAEMON: beyond vdsm, under `hosts.vdsm.`: executors, RPC methods, connections, event-loop delay.
 * The Prometheus names (prefixed `hostvisor_`) carry the same figures with labels.
 */
import { counter, family, type Family } from './family.js';

export const HEALTH = {
  cpuUser: family('hosts.vdsm.cpu.user_pct', 'process_cpu_user_percent', 'daemon user CPU over the last health interval, percent of one CPU'),
  cpuSys: family('hosts.vdsm.cpu.sys_pct', 'process_cpu_sys_percent', 'daemon system CPU over the last health interval, percent of one CPU'),
  rss: family('hosts.vdsm.memory.rss', 'process_rss_kibibytes', 'daemon resident set size, KiB'),
  heapUsed: family('hosts.vdsm.memory.heap_used', 'process_heap_used_kibibytes', 'V8 heap in use, KiB'),
  threads: family('hosts.vdsm.threads_count', 'process_threads', 'daemon threads (worker threads and libuv included)'),
} as const;

export const HOST = {
  memAvailable: family('hosts.memory.available', 'host_memory_available_mb', 'memory available for new VMs, MiB'),
  memCommitted: family('hosts.memory.committed', 'host_memory_committed_mb', 'memory committed to VMs, MiB'),
  memFree: family('hosts.memory.free_mb', 'host_memory_free_mb', 'free memory (free, cached, buffers, reclaimable), MiB'),
  memUsed: family('hosts.memory.usage_percent', 'host_memory_usage_percent', 'memory in use, percent'),
  anonHugePages: family('hosts.memory.anon_huge_pages', 'host_memory_anon_huge_pages_mb', 'anonymous huge pages, MiB'),
  swapTotal: family('hosts.swap.total_mb', 'host_swap_total_mb', 'swap size, MiB'),
  swapFree: family('hosts.swap.free_mb', 'host_swap_free_mb', 'free swap, MiB'),
  vmActive: family('hosts.vms.active', 'host_vms_active', 'VMs Up'),
  vmCount: family('hosts.vms.total', 'host_vms_total', 'VMs known to the daemon'),
  cpuLoad: family('hosts.cpu.load', 'host_cpu_load', '5-minute load average'),
  cpuUser: family('hosts.cpu.user', 'host_cpu_user_percent', 'host user CPU, percent'),
  cpuSys: family('hosts.cpu.sys', 'host_cpu_sys_percent', 'host system CPU, percent'),
  cpuIdle: family('hosts.cpu.idle', 'host_cpu_idle_percent', 'host idle CPU, percent'),
  cpuSysVdsmd: family('hosts.cpu.sys_vdsmd', 'host_cpu_sys_daemon_percent', 'daemon system CPU, percent of the host'),
  cpuUserVdsmd: family('hosts.cpu.user_vdsmd', 'host_cpu_user_daemon_percent', 'daemon user CPU, percent of the host'),
  ksmPages: family('hosts.cpu.ksm_pages', 'host_ksm_pages', 'KSM pages to scan'),
  // The misspelling is vdsm's, kept so existing dashboards find it.
  ksmCpu: family('hosts.cpu.ksm_cpu_precent', 'host_ksm_cpu_percent', 'KSM thread CPU, percent'),
  haScore: family('hosts.ha_score', 'host_ha_score', 'hosted-engine HA score (when configured)'),
  elapsedTime: family('hosts.elapsed_time', 'host_elapsed_seconds', 'seconds since the daemon started'),
  nicSpeed: family('hosts.nic.{nic}.speed', 'host_nic_speed_mbps', 'link speed, Mbit/s', ['nic']),
  nicRxErrors: family('hosts.nic.{nic}.rx_errors', 'host_nic_rx_errors', 'receive errors', ['nic']),
  nicTxErrors: family('hosts.nic.{nic}.tx_errors', 'host_nic_tx_errors', 'transmit errors', ['nic']),
  nicRxDropped: family('hosts.nic.{nic}.rx_dropped', 'host_nic_rx_dropped', 'received packets dropped', ['nic']),
  nicTxDropped: family('hosts.nic.{nic}.tx_dropped', 'host_nic_tx_dropped', 'transmitted packets dropped', ['nic']),
  nicRx: family('hosts.nic.{nic}.rx', 'host_nic_rx_bytes', 'bytes received', ['nic']),
  nicTx: family('hosts.nic.{nic}.tx', 'host_nic_tx_bytes', 'bytes transmitted', ['nic']),
} as const;

const VM_LABEL = ['vm'];
const DISK_LABELS = ['vm', 'drive'];
const NIC_LABELS = ['vm', 'nic'];

export const VM = {
  cpuUser: family('vms.{vm}.cpu.user', 'vm_cpu_user_percent', 'guest vCPU time, percent of one host CPU', VM_LABEL),
  cpuSys: family('vms.{vm}.cpu.sys', 'vm_cpu_sys_percent', 'QEMU process time, percent of one host CPU', VM_LABEL),
  cpuUsage: family('vms.{vm}.cpu.usage', 'vm_cpu_usage_nanoseconds', 'cumulative CPU time, ns', VM_LABEL),
  balloonMax: family('vms.{vm}.balloon.max', 'vm_balloon_max_kibibytes', 'balloon maximum, KiB', VM_LABEL),
  balloonMin: family('vms.{vm}.balloon.min', 'vm_balloon_min_kibibytes', 'balloon minimum, KiB', VM_LABEL),
  balloonTarget: family('vms.{vm}.balloon.target', 'vm_balloon_target_kibibytes', 'balloon target, KiB', VM_LABEL),
  balloonCur: family('vms.{vm}.balloon.cur', 'vm_balloon_current_kibibytes', 'balloon current size, KiB', VM_LABEL),
  /** `mem.<memoryStats key>`: mem_total, mem_unused, mem_free, swap_in, swap_out, majflt, minflt, pageflt. */
  mem: family('vms.{vm}.mem.{stat}', 'vm_memory_stat', "the guest's memory statistics (VM.getStats memoryStats)", ['vm', 'stat']),
  diskReadLatency: family('vms.{vm}.disk.{drive}.read_latency', 'vm_disk_read_latency_nanoseconds', 'read latency, ns per request', DISK_LABELS),
  diskReadOps: family('vms.{vm}.disk.{drive}.read_ops', 'vm_disk_read_ops', 'read requests', DISK_LABELS),
  diskReadBytes: family('vms.{vm}.disk.{drive}.read_bytes', 'vm_disk_read_bytes', 'bytes read', DISK_LABELS),
  diskReadRate: family('vms.{vm}.disk.{drive}.read_rate', 'vm_disk_read_rate_bytes_per_second', 'read rate, bytes/s', DISK_LABELS),
  diskWriteBytes: family('vms.{vm}.disk.{drive}.write_bytes', 'vm_disk_write_bytes', 'bytes written', DISK_LABELS),
  diskWriteOps: family('vms.{vm}.disk.{drive}.write_ops', 'vm_disk_write_ops', 'write requests', DISK_LABELS),
  diskWriteLatency: family('vms.{vm}.disk.{drive}.write_latency', 'vm_disk_write_latency_nanoseconds', 'write latency, ns per request', DISK_LABELS),
  diskWriteRate: family('vms.{vm}.disk.{drive}.write_rate', 'vm_disk_write_rate_bytes_per_second', 'write rate, bytes/s', DISK_LABELS),
  diskApparentSize: family('vms.{vm}.disk.{drive}.apparent_size', 'vm_disk_apparent_size_bytes', 'apparent size, bytes', DISK_LABELS),
  diskFlushLatency: family('vms.{vm}.disk.{drive}.flush_latency', 'vm_disk_flush_latency_nanoseconds', 'flush latency, ns per request', DISK_LABELS),
  diskTrueSize: family('vms.{vm}.disk.{drive}.true_size', 'vm_disk_true_size_bytes', 'host storage in use, bytes', DISK_LABELS),
  nicSpeed: family('vms.{vm}.nic.{nic}.speed', 'vm_nic_speed_mbps', 'vNIC speed, Mbit/s', NIC_LABELS),
  nicRxBytes: family('vms.{vm}.nic.{nic}.rx_bytes', 'vm_nic_rx_bytes', 'bytes received', NIC_LABELS),
  nicRxErrors: family('vms.{vm}.nic.{nic}.rx_errors', 'vm_nic_rx_errors', 'receive errors', NIC_LABELS),
  nicRxDropped: family('vms.{vm}.nic.{nic}.rx_dropped', 'vm_nic_rx_dropped', 'received packets dropped', NIC_LABELS),
  nicTxBytes: family('vms.{vm}.nic.{nic}.tx_bytes', 'vm_nic_tx_bytes', 'bytes transmitted', NIC_LABELS),
  nicTxErrors: family('vms.{vm}.nic.{nic}.tx_errors', 'vm_nic_tx_errors', 'transmit errors', NIC_LABELS),
  nicTxDropped: family('vms.{vm}.nic.{nic}.tx_dropped', 'vm_nic_tx_dropped', 'transmitted packets dropped', NIC_LABELS),
} as const;

const EXECUTOR = ['executor'];
const METHOD = ['method'];

export const DAEMON = {
  queued: family('hosts.vdsm.executor.{executor}.queued', 'executor_queued_tasks', 'tasks waiting for a worker', EXECUTOR),
  active: family('hosts.vdsm.executor.{executor}.active', 'executor_active_workers', 'workers not discarded, idle or busy', EXECUTOR),
  busy: family('hosts.vdsm.executor.{executor}.busy', 'executor_busy_workers', 'workers running a task', EXECUTOR),
  discarded: family('hosts.vdsm.executor.{executor}.discarded', 'executor_discarded_workers', 'discarded workers whose task still runs', EXECUTOR),
  threads: family('hosts.vdsm.executor.{executor}.threads', 'executor_threads', 'live worker threads', EXECUTOR),
  rejected: counter('hosts.vdsm.executor.{executor}.rejected', 'executor_rejected_tasks_total', 'tasks refused: queue full', EXECUTOR),
  failed: counter('hosts.vdsm.executor.{executor}.failed', 'executor_failed_tasks_total', 'tasks that failed', EXECUTOR),
  timedOut: counter('hosts.vdsm.executor.{executor}.timed_out', 'executor_timed_out_tasks_total', 'tasks whose worker was discarded on timeout', EXECUTOR),
  tasks: counter('hosts.vdsm.executor.{executor}.tasks', 'executor_tasks_total', 'tasks settled (timed from dispatch)', EXECUTOR),
  taskSeconds: counter('hosts.vdsm.executor.{executor}.task_seconds', 'executor_task_seconds_total', 'time from dispatch to outcome, summed', EXECUTOR),
  taskMax: family('hosts.vdsm.executor.{executor}.task_max_ms', 'executor_task_max_milliseconds', 'longest task since the last report, ms', EXECUTOR),
  rpcCalls: counter('hosts.vdsm.rpc.{method}.calls', 'rpc_calls_total', 'JSON-RPC calls answered', METHOD),
  rpcErrors: counter('hosts.vdsm.rpc.{method}.errors', 'rpc_errors_total', 'JSON-RPC calls answered with an error', METHOD),
  rpcSeconds: counter('hosts.vdsm.rpc.{method}.seconds', 'rpc_seconds_total', 'JSON-RPC call time, summed', METHOD),
  rpcMax: family('hosts.vdsm.rpc.{method}.max_ms', 'rpc_max_milliseconds', 'slowest call since the last report, ms', METHOD),
  connections: family('hosts.vdsm.connections', 'connections', 'open connections on the management port'),
  loopMean: family('hosts.vdsm.event_loop.delay_mean_ms', 'event_loop_delay_mean_milliseconds', 'event-loop delay since the last report, mean, ms'),
  loopP99: family('hosts.vdsm.event_loop.delay_p99_ms', 'event_loop_delay_p99_milliseconds', 'event-loop delay since the last report, 99th percentile, ms'),
  loopMax: family('hosts.vdsm.event_loop.delay_max_ms', 'event_loop_delay_max_milliseconds', 'event-loop delay since the last report, max, ms'),
} as const;

/** Every family, for the Prometheus registry. */
export const ALL_FAMILIES: readonly Family[] = [HEALTH, HOST, VM, DAEMON].flatMap((group) => Object.values(group));
