/** The Host.* verbs we serve. */
import { Type } from '@sinclair/typebox';
import { verb } from './declaration.js';
import { HardwareInformation, HostCapabilities, HostDeviceMap, HostJobs, HostResources, HostStats, JobType } from './host-types.js';
import { any, bool, int, list, map, oneOf, record, str } from './vdsm-types.js';
import { VmShortStatus, VmStats } from './vm-types.js';

const vmList = { name: 'vmList', schema: list(str()), default: [] };
const Done = Type.Literal(true);

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'CRIT'] as const;

export const hostVerbs = [
  verb('Host.ping2', 'Liveness probe of the engine; answers true.', [], Done),
  verb('Host.confirmConnectivity', 'Confirms that the engine still reaches the host after a network change; answers true.', [], Done),
  verb('Host.ping', 'Older liveness probe; answers true, and confirms a pending network change as Host.confirmConnectivity does.', [], Done),
  verb('Host.getCapabilities', 'What this host is and can run: CPU, memory, NUMA, devices, software, networks.', [], HostCapabilities),
  verb('Host.getStats', "The host's latest sample: CPU, memory, KSM, NUMA, NICs, VM counts.", [], HostStats),
  verb('Host.getResources', 'Capacity and what running VMs use of it (ours; not a vdsm verb).', [], HostResources),
  verb('Host.getHardwareInfo', "The machine's DMI identity: manufacturer, product, version, serial, UUID, family.", [], HardwareInformation),
  verb('Host.hostdevListByCaps', "libvirt's node devices, those of the given capabilities (all when none).", [{ name: 'caps', schema: list(str()), default: [] }], HostDeviceMap),
  verb(
    'Host.getJobs',
    'Long-running jobs and how they ended, by type and id.',
    [
      { name: 'job_type', schema: JobType, optional: true },
      { name: 'job_ids', schema: list(str()), default: [] },
    ],
    HostJobs,
  ),
  verb(
    'Host.getVMList',
    'The VMs of this host: id, status and status time.',
    [{ name: 'fullStatus', schema: bool(), default: false }, vmList, { name: 'onlyUUID', schema: bool(), default: false }],
    list(VmShortStatus),
  ),
  verb('Host.getVMFullList', 'The VMs of this host: id, status and status time.', [vmList], list(VmShortStatus)),
  verb('Host.getAllVmStats', "Every VM's statistics.", [], list(VmStats)),
  verb('Host.dumpxmls', "The libvirt domain XML of each VM asked for, by VM id.", [vmList], map(str())),
  verb(
    'Host.setMOMPolicyParameters',
    "Takes the engine's memory-overcommit policy (ksmEnabled, balloonEnabled, ...): kept, its KSM part applied; getStats' momStatus stays disabled (no MOM runs here).",
    [{ name: 'key_value_store', schema: map(any()) }],
    Done,
  ),
  verb(
    'Host.setupNetworks',
    "Puts the host's networks and bonds as asked (the engine's management network at install), checks that the engine still reaches the host and otherwise rolls the change back (10). Needs the privileged helper.",
    [
      { name: 'networks', schema: map(map(any())) },
      { name: 'bondings', schema: map(map(any())) },
      { name: 'options', schema: map(any()) },
    ],
    record('Status', { code: int(), message: str() }),
  ),
  verb('Host.setSafeNetworkConfig', 'The running network configuration becomes the one restored at boot.', [], Done),
  verb(
    'Host.setLogLevel',
    "Sets the daemon's log level until restart.",
    [
      { name: 'level', schema: oneOf(...LOG_LEVELS) },
      { name: 'name', schema: str(), default: '' },
    ],
    Done,
  ),
];
