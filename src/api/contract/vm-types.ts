/** The shapes of the VM verbs' answers and of VM events, after vdsm's schema. */
import { Type } from '@sinclair/typebox';
import { any, bool, float, int, list, map, oneOf, record, str, uint, uuid } from './vdsm-types.js';
import { NIC_STATS_PROPERTIES } from './host-types.js';

export const VmStatus = oneOf(
  'Down',
  'Migration Destination',
  'Migration Source',
  'Paused',
  'Powering down',
  'Powering up',
  'RebootInProgress',
  'Restoring state',
  'Saving State',
  'Up',
  'WaitForLaunch',
);

export const VmShortStatus = record('VmShortStatus', { vmId: uuid(), status: VmStatus }, { statusTime: str() });

const VmDisplayInfo = record('VmDisplayInfo', { type: oneOf('spice', 'vnc'), port: str(), tlsPort: str(), ipAddress: str() });

const NetworkInterfaceStats = record('NetworkInterfaceStats', { ...NIC_STATS_PROPERTIES, macAddr: str() });

const VmDiskStats = record(
  'VmDiskStats',
  {
    readRate: str(),
    writeRate: str(),
    readOps: str(),
    writeOps: str(),
    readBytes: str(),
    writtenBytes: str(),
    readLatency: str(),
    writeLatency: str(),
    flushLatency: str(),
    apparentsize: str(),
    truesize: str(),
  },
  { imageID: uuid() },
);

const GuestMemoryStats = record(
  'GuestMemoryStats',
  { mem_total: str(), mem_free: str(), mem_unused: str(), swap_in: uint(), swap_out: uint(), pageflt: uint(), majflt: uint(), minflt: uint() },
  { mem_cached: str(), mem_buffers: str() },
);

const BalloonInfo = record('BalloonInfo', {}, { balloon_cur: str(), balloon_max: str(), balloon_min: str(), balloon_target: str(), ballooning_enabled: bool() });

const GuestNetworkDeviceInfo = record('GuestNetworkDeviceInfo', { name: str(), hw: str(), inet: list(str()), inet6: list(str()) });
const GuestMountInfo = record('GuestMountInfo', { path: str(), fs: str(), total: uint(), used: uint() });

export const RunningVmStats = record(
  'RunningVmStats',
  {
    vmId: uuid(),
    status: VmStatus,
    statusTime: str(),
    vmName: str(),
    vmType: oneOf('kvm'),
    kvmEnable: str(),
    acpiEnable: str(),
    elapsedTime: str(),
    monitorResponse: str(),
    pauseCode: str(),
    timeOffset: str(),
    clientIp: str(),
    pid: str(),
    cpuUser: str(),
    cpuSys: str(),
    cpuActual: bool(),
    network: map(NetworkInterfaceStats),
    disks: map(VmDiskStats),
    displayInfo: list(VmDisplayInfo),
    displayPort: str(),
    username: str(),
    session: oneOf('Active', 'Locked', 'LoggedOff', 'Unknown', 'UserLoggedOn'),
    memUsage: str(),
    guestCPUCount: int(),
    guestIPs: str(),
    guestFQDN: str(),
  },
  {
    displaySecurePort: str(),
    displayIp: str(),
    displayType: oneOf('qxl', 'vnc'),
    hash: str(),
    tpmHash: str(),
    nvramHash: str(),
    vcpuCount: str(),
    vcpuQuota: str(),
    vcpuPeriod: int(),
    vcpuUserLimit: int(),
    cpuUsage: str(),
    memoryStats: GuestMemoryStats,
    balloonInfo: BalloonInfo,
    migrationProgress: uint(),
    watchdogEvent: record('WatchdogEvent', { action: oneOf('destroy', 'ignore', 'log', 'pause', 'reset', 'shutdown'), time: float() }),
    ioTune: list(any()),
    vmJobs: map(any()),
    cdrom: str(),
    boot: oneOf('a', 'c', 'd', 'n'),
    appsList: list(str()),
    netIfaces: list(GuestNetworkDeviceInfo),
    disksUsage: list(GuestMountInfo),
    guestContainers: list(any()),
    pci_devices: list(any()),
    // vdsm merges these guest facts into the stats, and the engine reads them there; its schema
    // names them only in the VM definition (lastLogin: nowhere).
    guestName: str(),
    guestOs: str(),
    guestOsInfo: record('VMGuestOsInfo', { type: str(), arch: str(), kernel: str(), distribution: str(), version: str(), codename: str() }),
    guestTimezone: record('VMGuestTimezone', { offset: int(), zone: str() }),
    guestDiskMapping: map(any()),
    lastLogin: float(),
  },
);

/**
 * A VM that is down. vdsm's schema names exitCode and exitReason by enumerations, but vdsm and the
 * engine carry them as numbers (0 normal, 1 error; the reason codes); we follow the wire.
 */
export const ExitedVmStats = record(
  'ExitedVmStats',
  { vmId: uuid(), status: oneOf('Down'), exitCode: int(), exitReason: int(), exitMessage: str() },
  { statusTime: str(), timeOffset: int() },
);

export const VmStats = Type.Union([RunningVmStats, ExitedVmStats], { $id: 'VmStats' });

/** VM.create's answer: the VM as launched, with the domain XML it was created from. */
export const VmCreated = record('VmCreated', { vmId: uuid(), status: VmStatus, statusTime: str(), xml: str() });

/** vdsm answers pause and cont with an empty vmList, whatever its schema says. */
export const VmListChanged = record('VmListChanged', { vmList: Type.Union([map(any()), VmShortStatus]) });

/** VM_status: per VM, its new status and what changed with it. */
export const StatusDetails = record(
  'StatusDetails',
  { status: VmStatus },
  {
    statusTime: str(),
    timeOffset: str(),
    exitCode: int(),
    exitReason: int(),
    exitMessage: str(),
    displayInfo: list(any()),
    hash: str(),
    cpuUser: str(),
    cpuSys: str(),
    displayIp: str(),
    monitorResponse: str(),
    elapsedTime: str(),
    displayType: oneOf('qxl', 'vnc'),
    displayPort: str(),
    displaySecurePort: str(),
    clientIp: str(),
    vcpuQuota: str(),
    vcpuPeriod: int(),
    pauseCode: str(),
  },
);
