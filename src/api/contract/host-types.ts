/** The shapes of the host verbs' answers, after vdsm's schema (HostCapabilities, HostStats, ...). */
import { Type } from '@sinclair/typebox';
import { any, bool, float, int, list, map, oneOf, record, str, uint } from './vdsm-types.js';

const StringMap = map(str());

/** Addresses every host interface (NIC, bond, VLAN, bridge) reports. */
const addressed = { addr: str(), netmask: str(), ipv4addrs: list(str()), ipv6addrs: list(str()), ipv6gateway: str(), dhcpv4: bool(), dhcpv6: bool(), mtu: str() };
const addressedOptional = { gateway: str(), ipv4defaultroute: bool(), ipv6autoconf: bool() };
const qos = list(any());

const NetInfoNic = record('NetInfoNic', { ...addressed, hwaddr: str(), speed: int() }, { ...addressedOptional, permhwaddr: str(), qos });
const NetInfoBond = record(
  'NetInfoBond',
  { ...addressed, hwaddr: str(), slaves: list(str()), opts: StringMap, active_slave: str() },
  { ...addressedOptional, qos, switch: str() },
);
const NetInfoVlan = record('NetInfoVlan', { ...addressed, iface: str(), mtu: uint(), vlanid: uint() }, addressedOptional);
/**
 * A bridge. vdsm's schema gives bridges and bridged networks one type, NetInfoBridgedNetwork;
 * what vdsm sends differs (a network names its device, switch and southbound; a bridge its
 * options), so here they are two.
 */
const NetInfoBridge = record(
  'NetInfoBridge',
  { ...addressed, gateway: str(), ports: list(str()), stp: str() },
  { ipv4defaultroute: bool(), ipv6autoconf: bool(), opts: StringMap, hostQos: any() },
);
/**
 * What every network carries, bridged or not, as vdsm sends it (its schema lists less): its
 * device's addresses, the device, and `switch`, without which the engine refuses the network.
 * `vlanid` when the southbound device is a VLAN; `hostQos` when the network has QoS.
 */
const networkProperties = { ...addressed, gateway: str(), ipv4defaultroute: bool(), ipv6autoconf: bool(), iface: str(), switch: str() };
const networkOptional = { vlanid: uint(), hostQos: any() };
const NetInfoBridgedNetwork = record(
  'NetInfoBridgedNetwork',
  { ...networkProperties, bridged: Type.Literal(true), ports: list(str()), stp: str(), southbound: Type.Union([str(), Type.Null()]) },
  networkOptional,
);
const NetInfoBridgelessNetwork = record(
  'NetInfoBridgelessNetwork',
  { ...networkProperties, bridged: Type.Literal(false), interface: str(), southbound: str() },
  networkOptional,
);
/** vdsm's union: `bridged` tells which. */
const NetInfoNetwork = Type.Union([NetInfoBridgedNetwork, NetInfoBridgelessNetwork], { $id: 'NetInfoNetwork' });

const CpuInfo = record('CpuInfo', { cpu_id: int(), numa_cell_id: int(), socket_id: int(), die_id: int(), core_id: int() });
const NumaNode = record('NumaNode', { cpus: list(uint()), totalMemory: str(), hugepages: map(record('NumaNodeHugePages', { totalPages: str() })) });
const HbaInventory = record('HbaInventory', {
  iSCSI: list(record('IscsiHba', { InitiatorName: str() })),
  FC: list(record('FcHba', { model: str(), wwpn: str(), wwnn: str() })),
});
const OsVersion = record('OsVersion', { name: oneOf('Debian', 'Fedora', 'RHEL', 'RHEV Hypervisor', 'oVirt Node', 'unknown'), release: str(), version: str(), pretty_name: str() });
const SoftwarePackageInfo = record('SoftwarePackageInfo', { version: str(), release: str() }, { buildtime: str() });

export const HostCapabilities = record(
  'HostCapabilities',
  {
    uuid: str(),
    kvmEnabled: str(),
    cpuSockets: str(),
    cpuCores: str(),
    cpuThreads: str(),
    onlineCpus: str(),
    cpuTopology: list(CpuInfo),
    cpuSpeed: str(),
    cpuModel: str(),
    cpuFlags: str(),
    memSize: str(),
    reservedMem: str(),
    guestOverhead: str(),
    numaNodes: map(NumaNode),
    numaNodeDistance: map(list(uint())),
    autoNumaBalancing: oneOf(0, 1, 2),
    emulatedMachines: list(str()),
    rngSources: list(oneOf('hwrng', 'random')),
    HBAInventory: HbaInventory,
    ISCSIInitiatorName: str(),
    kdumpStatus: int(),
    selinux: record('SELinuxStatus', { mode: str() }),
    nameservers: list(str()),
    supportsIPv6: bool(),
    hostdevPassthrough: str(),
    operatingSystem: OsVersion,
    packages2: map(SoftwarePackageInfo),
    vmTypes: list(oneOf('kvm')),
    software_version: str(),
    software_revision: str(),
    version_name: str(),
    supportedENGINEs: list(str()),
    clusterLevels: list(str()),
    nics: map(NetInfoNic),
    bridges: map(NetInfoBridge),
    vlans: map(NetInfoVlan),
    bondings: map(NetInfoBond),
    networks: map(NetInfoNetwork),
    netConfigDirty: str(),
    lastClientIface: str(),
    additionalFeatures: list(str()),
    vncEncrypted: str(),
    vdsmToCpusAffinity: list(int()),
  },
  {
    liveSnapshot: str(),
    liveMerge: str(),
    hooks: map(any()),
    kernelArgs: str(),
    realtimeKernel: bool(),
    nestedVirtualization: bool(),
    hostedEngineDeployed: bool(),
    hugepages: list(int()),
    connector_info: any(),
    backupEnabled: bool(),
    domain_versions: list(int()),
    supported_block_size: map(list(int())),
    fipsEnabled: bool(),
    tscFrequency: str(),
    tscScaling: bool(),
    boot_uuid: str(),
    ovnConfigured: bool(),
    zerocopy_migrations: bool(),
  },
);

/** What vdsm reports of a NIC, the host's and a VM's alike (counters as strings). */
export const NIC_STATS_PROPERTIES = {
  name: str(),
  state: oneOf('up', 'down', 'unknown'),
  speed: str(),
  rx: str(),
  tx: str(),
  rxErrors: str(),
  txErrors: str(),
  rxDropped: str(),
  txDropped: str(),
  sampleTime: float(),
};

const HostNetworkInterfaceStats = record('HostNetworkInterfaceStats', NIC_STATS_PROPERTIES);
const CpuCoreStats = record('CpuCoreStats', { cpuUser: str(), cpuSys: str(), cpuIdle: str(), nodeIndex: uint() });
const NumaNodeMemoryStats = record(
  'NumaNodeMemoryStats',
  { memFree: str(), memPercent: uint() },
  { hugepages: map(record('NumaNodeHugePagesStats', { freePages: str() })) },
);
const HostedEngineStatus = record('HostedEngineStatus', { configured: bool(), active: bool(), score: uint(), globalMaintenance: bool(), localMaintenance: bool() });
const V2VJobInfo = record('V2VJobInfo', { id: str(), status: str(), description: str(), progress: uint() });

export const HostStats = record(
  'HostStats',
  {
    cpuUser: str(),
    cpuSys: str(),
    cpuIdle: str(),
    cpuLoad: str(),
    cpuUserVdsmd: str(),
    cpuSysVdsmd: str(),
    cpuStatistics: map(CpuCoreStats),
    memFree: int(),
    memUsed: str(),
    memShared: int(),
    swapTotal: int(),
    swapFree: int(),
    anonHugePages: str(),
    numaNodeMemFree: map(NumaNodeMemoryStats),
    ksmState: bool(),
    ksmPages: int(),
    ksmCpu: uint(),
    ksmMergeAcrossNodes: bool(),
    vmCount: int(),
    vmActive: int(),
    vmMigrating: int(),
    incomingVmMigrations: uint(),
    outgoingVmMigrations: uint(),
    network: map(HostNetworkInterfaceStats),
    rxDropped: str(),
    txDropped: str(),
    diskStats: map(record('PathStats', { free: str() })),
    storageDomains: map(any()),
    elapsedTime: str(),
    dateTime: str(),
    thpState: oneOf('always', 'madvise', 'never'),
    netConfigDirty: str(),
    momStatus: oneOf('active', 'disabled', 'inactive'),
    haStats: HostedEngineStatus,
  },
  {
    haScore: int(),
    // vdsm's schema says a list of maps; vdsm sends one map by job id, and so do we.
    v2vJobs: map(V2VJobInfo),
    bootTime: str(),
    multipathHealth: map(any()),
    // vdsm sends the host's huge pages by size; its schema does not name them.
    hugepages: map(map(int())),
  },
);

export const HardwareInformation = record(
  'HardwareInformation',
  {},
  { systemManufacturer: str(), systemProductName: str(), systemVersion: str(), systemSerialNumber: str(), systemUUID: str(), systemFamily: str() },
);

/**
 * A node device's params: which apply depend on its capability. vdsm also sends `iommu_group`,
 * `interface_id` and `physfn`, which the engine reads and its schema does not name.
 */
const HostDeviceParams = record(
  'HostDeviceParams',
  { capability: str(), is_assignable: oneOf('true', 'false') },
  {
    vendor: str(),
    vendor_id: str(),
    product: str(),
    product_id: str(),
    interface: str(),
    interface_id: str(),
    parent: str(),
    driver: str(),
    iommu_group: str(),
    numa_node: str(),
    physfn: str(),
    udev_path: str(),
    address: map(str()),
  },
);

/** libvirt node devices by name. */
export const HostDeviceMap = map(record('HostDevice', { params: HostDeviceParams }));

/**
 * vdsm's job types, and hostvisor's `migration` (vdsm keeps migrations out of its jobs): the
 * engine asks for its storage and v2v jobs by type and id, so it never meets one.
 */
export const JobType = oneOf('storage', 'v2v', 'migration');

export const HostJobs = map(
  record(
    'HostJobInfo',
    { id: str(), job_type: JobType, status: oneOf('pending', 'running', 'done', 'failed', 'aborted'), description: str() },
    { progress: uint(), error: record('ErrorInfo', { code: int(), message: str() }) },
  ),
);

/** Our resource view (nova's style): not a vdsm verb, so ours to shape. */
export const HostResources = Type.Record(Type.String(), Type.Unknown(), { $id: 'HostResources' });
