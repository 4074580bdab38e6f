/**
 * Every configuration key, with its default and what it allows. Sections and key names follow
 * vdsm.conf where vdsm has them; the rest are hostvisor's own. Defaults are the embedded default:
 * libvirt's in-process test driver, loopback, no TLS.
 */
import { bool, int, list, oneOf, port, ratio, seconds, str, type Setting } from './settings.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MiB = 1024 * 1024;

export const schema = {
  vars: {
    ssl: bool(false, 'TLS with client certificates on the management port (vdsm defaults to true; the sample config turns it on)'),
    allow_plaintext_remote: bool(false, 'allow listening on a non-loopback address without TLS (anyone who can reach the port could drive the host)'),
    vm_sample_interval: seconds(15, 'period of VM sampling', 0.1),
    host_sample_stats_interval: seconds(15, 'period of host sampling', 0.1),
    vm_command_timeout: seconds(60, 'age of VM stats after which a VM is reported unresponsive (monitorResponse -1)', 0.1),
    guest_agent_timeout: seconds(30, 'silence after which a guest agent is considered stale', 0.1),
    broker_enable: bool(false, 'broker mode: also serve requests taken from a STOMP broker (RabbitMQ) the daemon connects out to'),
    broker_address: str('127.0.0.1', 'STOMP broker address (vdsm key; RabbitMQ listens on 61613)', false),
    broker_port: port(61613, 'STOMP broker port (vdsm defaults to 5445; RabbitMQ STOMP uses 61613)'),
  },
  addresses: {
    management_ip: str('127.0.0.1', 'address to listen on; "::" for every address, dual stack', false),
    management_port: port(54321, 'port to listen on (0 picks a free one)'),
  },
  tls: {
    ca_file: str('/etc/pki/hostvisor/certs/cacert.pem', 'CA that client certificates must chain to'),
    cert_file: str('/etc/pki/hostvisor/certs/hostvisorcert.pem', "the daemon's certificate"),
    key_file: str('/etc/pki/hostvisor/keys/hostvisorkey.pem', "the daemon's private key"),
    handshake_timeout: seconds(10, 'time allowed for a TLS handshake'),
  },
  acceptor: {
    max_connections: int(1000, 'concurrent client connections; more are closed at accept', 1),
    detection_timeout: seconds(10, 'time allowed for a client to send its first bytes'),
  },
  stomp: {
    max_frame_size: int(10 * MiB, 'largest STOMP frame accepted, in bytes', 1024),
    max_headers: int(64, 'most headers in one frame', 1),
    max_header_line: int(8192, 'longest command or header line, in bytes', 256),
    max_outbound_buffer: int(32 * MiB, "bytes queued for a client that is not reading before it is cut off", 64 * 1024),
    max_pending_requests: int(1024, 'requests of one connection being served at once; more wait unread', 1),
    heartbeat_grace: seconds(2, 'extra time allowed for a late inbound heart-beat, on top of the agreed interval'),
    outgoing_heartbeat: int(0, 'heart-beat interval the server offers to send, in ms (0 = as vdsm: none unless asked)', 0),
  },
  broker: {
    login: str('guest', 'broker user (RabbitMQ allows guest only from loopback)'),
    passcode: str('guest', 'broker password'),
    vhost: str('/', 'sent as the STOMP host header: the RabbitMQ virtual host', false),
    host_name: str('', 'this host in destination names ({host}); empty means the machine host name'),
    request_destinations: list(['/queue/hostvisor.requests.{host}'], 'destinations this host takes requests from ({host} is replaced)'),
    events_destination: str('/topic/hostvisor.events.{host}', 'where VM and host events are sent ({host} is replaced; empty = not sent)'),
    heartbeat: int(10000, 'heart-beat interval offered both ways, in ms (0 = none)', 0),
    connect_timeout: seconds(10, 'time allowed to connect and get CONNECTED'),
    reconnect_min: seconds(0.5, 'first delay before reconnecting; doubles per failed attempt, with jitter'),
    reconnect_max: seconds(30, 'longest delay between reconnection attempts'),
    max_in_flight: int(64, 'requests taken from the broker and not yet answered (STOMP prefetch-count)', 1),
    tls: bool(false, 'connect to the broker over TLS'),
    ca_file: str('', 'CA the broker certificate must chain to (empty = system CAs)'),
    cert_file: str('', 'client certificate for the broker (empty = none)'),
    key_file: str('', 'private key of the client certificate'),
  },
  http: {
    max_header_size: int(16384, 'largest HTTP request head (request line and headers), in bytes', 1024),
    header_timeout: seconds(10, 'time allowed for a request head to arrive in full'),
    request_timeout: seconds(60, 'time allowed for a whole request, body included (vdsm: 60)'),
    idle_timeout: seconds(60, 'an HTTP connection idle this long (keep-alive between requests) is closed'),
    max_body_size: int(10 * MiB, 'largest request body (XML-RPC call), in bytes', 1024),
    xml_max_depth: int(32, 'deepest nesting of arrays and structs in an XML-RPC call', 1),
    xml_max_values: int(100_000, 'most values in one XML-RPC call', 1),
    ws_max_message: int(10 * MiB, 'largest WebSocket message; a bigger one closes the socket with 1009', 1024),
    ws_ping_interval: seconds(30, 'WebSocket ping period; a client that misses a pong is dropped (0 = no pings)', 0),
    ws_allowed_origins: list([], 'browser Origins allowed to open a WebSocket ("*" = any); clients sending no Origin are always allowed'),
  },
  rpc: {
    worker_threads: int(8, 'worker threads of the rpc executor (libvirt verbs)', 1),
    tasks_per_worker: int(10, 'queued tasks per rpc worker before ResourceExhausted', 1),
    worker_timeout: seconds(60, 'time after which a verb stuck in libvirt is answered with an error and its worker replaced; a verb waits at most twice this for a worker', 0.01),
    max_workers: int(30, 'most threads of the rpc executor, stuck ones included', 1),
  },
  sampling: {
    periodic_workers: int(4, 'worker threads of the periodic executor', 1),
    periodic_task_per_worker: int(100, 'queued tasks per periodic worker', 1),
    max_workers: int(30, 'most threads of the periodic executor, stuck ones included', 1),
    vcpu_pin_set: str('', 'host CPUs offered to VMs, as "0-3,^2,8"; empty means all'),
    statvfs_paths: list(['/tmp', '/var/log', '/var/lib/libvirt'], 'paths whose free space is sampled'),
    instances_path: str('/var/lib/libvirt', 'where VM disks live: the local disk of the resource view', false),
    capabilities_refresh_interval: seconds(300, 'period at which the host capabilities are gathered again (also on every reconnection to libvirt)', 1),
  },
  guest_agent: {
    periodic_workers: int(4, 'worker threads of the QEMU guest agent poller', 1),
    periodic_task_per_worker: int(100, 'queued tasks per poller worker', 1),
    max_workers: int(30, 'most threads of the guest agent poller', 1),
    channels_dir: str('/var/lib/libvirt/qemu/channels', 'folder of guest agent sockets; paths outside it are refused', false),
    qga_polling_period: seconds(5, 'tick of the QEMU guest agent poller', 0.1),
    qga_task_timeout: seconds(30, 'time after which a poller task is discarded', 0.1),
    qga_command_timeout: seconds(1, 'timeout of one QEMU guest agent command', 0.1),
  },
  metrics: {
    enabled: bool(true, 'send metrics to statsd'),
    collector_address: str('localhost', 'statsd address, "host" (port 8125) or "host:port"', false),
    prefix: str('', 'prefix for every metric name, e.g. hosts.myhost'),
    max_datagram: int(1432, 'largest statsd datagram, in bytes', 64, 65000),
  },
  health: {
    check_interval: seconds(300, 'period of the health monitor', 0.1),
  },
  migration: {
    destination_libvirt_uri: str('qemu+tls://{host}/system', "the destination's libvirt, for the peer-to-peer migration ({host}: the host part of the engine's dst)", false),
    downtime: int(500, 'longest pause of the guest at the end of a migration, in ms, reached in downtime_steps (vdsm: migration_downtime)', 1),
    downtime_steps: int(5, 'steps to that downtime when the engine sends no convergence schedule (vdsm: migration_downtime_steps)', 1, 100),
    monitor_interval: seconds(10, 'period at which a running migration is read: progress events and the convergence schedule (vdsm: migration_monitor_interval)', 0.1),
    max_outgoing: int(2, 'migrations from this host at once; more wait their turn (the engine may send outgoingLimit)', 1),
    max_incoming: int(2, 'migrations to this host at once; more are refused with code 82, and the source retries (the engine may send incomingLimit)', 1),
    connect_timeout: seconds(30, "time allowed to reach the destination's daemon and have it answer"),
    destination_timeout: seconds(3600, 'time a destination waits for an admitted VM to arrive and run before it gives up and removes it', 1),
    retry_interval: seconds(10, 'wait before asking a busy destination again (vdsm: migration_retry_timeout)', 0.1),
    memory_allocation_ratio: ratio(1, 'how far memory may be over-committed when admitting incoming VMs (nova: ram_allocation_ratio)', 0.1, 100),
    reserved_memory_mb: int(512, 'memory kept for the host when admitting incoming VMs, MiB (nova: reserved_host_memory_mb)', 0),
    cpu_allocation_ratio: ratio(4, 'vCPUs per offered host CPU when admitting incoming VMs (nova: cpu_allocation_ratio)', 0.1, 1000),
  },
  network: {
    config_dir: str('/var/lib/hostvisor/netconf', 'folder where the privileged network helper keeps running.json (applied now) and safe.json (restored at boot): capabilities report the running networks, and netConfigDirty when the two differ; missing files mean no managed networks', false),
    fake_nics: list(['dummy_*', 'veth_*'], 'dummy, veth and macvlan devices reported as NICs when their name matches one of these patterns (vdsm: [vars] fake_nics)'),
    hidden_nics: list(['w*', 'usb*'], 'NICs never reported when their name matches one of these patterns (vdsm: [vars] hidden_nics)'),
  },
  helper: {
    socket: str('/run/hostvisor/helper.sock', "the privileged helper's socket (hostvisor-helper --socket): network setups, KSM, root-only host facts; without it only those fail", false),
    timeout: seconds(30, 'time allowed for a helper operation other than a network setup (which takes as long as its connectivity check)', 1),
  },
  libvirt: {
    uri: str('test:///default', 'hypervisor connection URI; qemu:///system in production', false),
  },
  logging: {
    level: oneOf<LogLevel>('info', LOG_LEVELS, 'log level (changeable at run time with Host.setLogLevel)'),
  },
  daemon: {
    stop_timeout: seconds(30, 'deadline for a clean stop on SIGTERM/SIGINT'),
  },
} satisfies Record<string, Record<string, Setting<unknown>>>;

export type Schema = typeof schema;
type ValueOf<S> = S extends Setting<infer V> ? V : never;
export type Config = { readonly [S in keyof Schema]: { readonly [K in keyof Schema[S]]: ValueOf<Schema[S][K]> } };
