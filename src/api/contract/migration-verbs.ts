/** The migration verbs: VM.migrate and its follow-ups on the source, VM.migrationCreate on the destination. */
import { Type } from '@sinclair/typebox';
import type { Param } from '../../rpc/method-table.js';
import { verb } from './declaration.js';
import { bool, count, flag, float, int, list, oneOf, record, request, str, uint, uuid } from './vdsm-types.js';
import { VmShortStatus } from './vm-types.js';

const vmID: Param = { name: 'vmID', schema: str() };
const Done = Type.Literal(true);

const ConvergenceAction = request('ConvergenceAction', { name: oneOf('setDowntime', 'postcopy', 'abort'), params: list(str()) });
const ConvergenceSchedule = request('ConvergenceSchedule', {
  init: list(ConvergenceAction),
  stalling: list(request('ConvergenceItem', { limit: Type.Union([int(), Type.String({ pattern: '^-?[0-9]+$' })]), action: ConvergenceAction })),
});

/** vdsm's MigrateParams; `dstparams` (hibernation's) is not required for a live migration. */
const MigrateParams = request(
  'MigrateParams',
  { dst: str(), vmId: uuid() },
  {
    dstparams: str(),
    method: oneOf('online'),
    dstqemu: str(),
    tunneled: flag(),
    abortOnError: flag(),
    autoConverge: flag(),
    compressed: flag(),
    encrypted: flag(),
    enableGuestEvents: flag(),
    zerocopy: flag(),
    maxBandwidth: count(),
    parallel: count(),
    incomingLimit: count(),
    outgoingLimit: count(),
    consoleAddress: str(),
    convergenceSchedule: ConvergenceSchedule,
    cpusets: list(str()),
    numaNodesets: list(str()),
  },
);

/** What the source sends: the VM's domain XML (and vdsm's other keys, ignored). */
const MigrationCreateParams = request('MigrationCreateParams', {}, { _srcDomXML: str(), xml: str(), vmId: uuid() });

/** vdsm answers the VM's full definition as `params`; its status is what a source reads. */
const MigrationCreateState = record('MigrationCreateState', { migrationPort: int(), params: VmShortStatus });

/** The params of a `|virt|VM_migration_status|<vmId>` event, by VM id. */
export const MigrationStatus = record('MigrationStatus', { progress: float() }, { downtime: float(), postcopy: bool() });

const MigrationStats = Type.Union(
  [
    record('MigratedStats', { vmId: str(), status: Type.Literal('done'), downtime: uint() }),
    record('MigratingStats', { vmId: str(), status: Type.Literal('in_progress'), progress: uint() }),
  ],
  { $id: 'MigrationStats' },
);

export const migrationVerbs = [
  verb('VM.migrate', 'Starts a live migration to another host and answers at once; VM_migration_status events follow it.', [vmID, { name: 'params', schema: MigrateParams }], Done),
  verb('VM.getMigrationStatus', "The VM's running or last migration from this host: its progress, or its downtime once done.", [vmID], MigrationStats),
  verb('VM.migrateCancel', 'Cancels a running migration; the VM stays Up here.', [vmID], Done),
  verb('VM.migrateChangeParams', "Changes a running migration's bandwidth (MiB/s).", [vmID, { name: 'params', schema: request('MigrationParameters', { maxBandwidth: count() }) }], Done),
  verb(
    'VM.migrationCreate',
    'On the destination: admits a VM about to arrive by migration and waits for it (daemon to daemon).',
    [vmID, { name: 'params', schema: MigrationCreateParams }, { name: 'incomingLimit', schema: uint(), optional: true }],
    MigrationCreateState,
  ),
];
