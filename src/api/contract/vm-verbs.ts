/** The VM.* verbs we serve. */
import { Type } from '@sinclair/typebox';
import type { Param } from '../../rpc/method-table.js';
import { verb } from './declaration.js';
import { any, bool, int, list, record, request, str, uint } from './vdsm-types.js';
import { VmCreated, VmListChanged, VmShortStatus, VmStats } from './vm-types.js';

const vmID: Param = { name: 'vmID', schema: str() };
const Done = Type.Literal(true);

/** VM.create's vmParams: the domain XML as `xml`, or as `_srcDomXML` (vdsm's older name). */
/**
 * VM.updateVmPolicy's params: what is given changes, what is left out stays. The engine also puts
 * the VM's id in it (`vmId`) and always sends `ioTune`, empty when no disk has a QoS.
 */
const UpdateVmPolicyParams = request(
  'UpdateVmPolicyParams',
  {},
  {
    vmId: str(),
    /** Percent of the host's CPU the VM may use; the engine may send it as a string. */
    vcpuLimit: Type.Union([Type.Integer({ minimum: 1, maximum: 100 }), Type.String({ pattern: '^(100|[1-9][0-9]?)$' })]),
    ioTune: list(any()),
  },
);

const VmParameters = Type.Object({ xml: Type.Optional(str()), _srcDomXML: Type.Optional(str()) }, { $id: 'VmParameters' });

export const vmVerbs = [
  verb(
    'VM.create',
    'Creates and starts a VM from its libvirt domain XML; its <uuid> is the VM id (vmID when it has none).',
    [
      { name: 'vmID', schema: str(), optional: true },
      { name: 'vmParams', schema: VmParameters },
    ],
    VmCreated,
  ),
  verb('VM.destroy', 'Powers the VM off at once and forgets it.', [vmID, { name: 'gracefulAttempts', schema: uint(), default: 1 }], Done),
  verb(
    'VM.shutdown',
    "Asks the guest to power down (or reboot): its agents first, then ACPI, then, with force, power off.",
    [
      vmID,
      { name: 'delay', schema: int(), optional: true },
      { name: 'message', schema: str(), optional: true },
      { name: 'reboot', schema: bool(), default: false },
      { name: 'timeout', schema: int(), optional: true },
      { name: 'force', schema: bool(), default: false },
    ],
    Done,
  ),
  verb('VM.reboot', 'Asks the guest to reboot.', [vmID], Done),
  verb('VM.setDestroyOnReboot', "Makes the guest's next reboot power the VM off (Down, exitReason 13).", [vmID], Done),
  verb('VM.updateVmPolicy', "Sets the VM's CPU limit as a percentage of the host's CPU (I/O limits: not on this host).", [vmID, { name: 'params', schema: UpdateVmPolicyParams }], Done),
  verb('VM.reset', 'Resets the VM as its reset button would, without asking the guest.', [vmID], Done),
  verb('VM.pause', 'Pauses the VM.', [vmID], VmListChanged),
  verb('VM.cont', 'Resumes a paused VM.', [vmID], VmListChanged),
  verb('VM.getStats', "The VM's statistics, as a list of one.", [vmID], list(VmStats)),
  verb(
    'VM.setNumberOfCpus',
    'Sets the number of online vCPUs of a running VM.',
    [vmID, { name: 'numberOfCpus', schema: uint() }, { name: 'cpusets', schema: list(str()), optional: true }],
    record('VmCpusChanged', { vmList: VmShortStatus }),
  ),
  verb('VM.setMemory', "Sets a running VM's memory in MiB (the balloon's target; ours, not a vdsm verb).", [vmID, { name: 'memory', schema: uint() }], Done),
  verb('VM.desktopLock', "Locks the guest's desktop, through its agent.", [vmID], Done),
  verb('VM.desktopLogoff', 'Logs the desktop user off, through the guest agent.', [vmID, { name: 'force', schema: bool(), default: false }], Done),
  verb(
    'VM.desktopLogin',
    'Logs a user in to the guest desktop, through the guest agent.',
    [vmID, { name: 'domain', schema: str() }, { name: 'username', schema: str() }, { name: 'password', schema: str() }],
    Done,
  ),
  verb('VM.desktopSendHcCommand', 'Sends a command to the guest agent.', [vmID, { name: 'message', schema: str() }], Done),
];
