/**
 * The migration verbs. The work is virt/migration's: these check the VM, hand over and turn a
 * MigrationError into vdsm's error (its code, its fixed text, the VM and the reason).
 */
import { NoSuchVmError, VdsmError } from '../rpc/errors.js';
import { MIGRATION_ERROR_TEXT, MigrationError } from '../virt/migration/errors.js';
import type { Vm } from '../virt/vm.js';
import type { ApiContext } from './context.js';
import type { Handlers } from './method-registry.js';

function vmError(err: unknown, vmId: string): unknown {
  if (!(err instanceof MigrationError)) return err;
  return new VdsmError(err.code, MIGRATION_ERROR_TEXT[err.code], { vmId, reason: err.message });
}

/** Runs `work`, with a MigrationError answered as vdsm's. */
async function answering<T>(vmId: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw vmError(err, vmId);
  }
}

function vmOf(ctx: ApiContext, args: Record<string, unknown>): Vm {
  const vmId = args['vmID'] as string;
  const vm = ctx.registry.get(vmId);
  if (vm === undefined || vm.status === 'Down') throw new NoSuchVmError(vmId);
  return vm;
}

export function migrationHandlers(ctx: ApiContext): Handlers {
  const { migrations } = ctx;
  return {
    'VM.migrate': (args) => {
      const vm = vmOf(ctx, args);
      return answering(vm.id, () => {
        migrations.migrate(vm, args['params'] as Record<string, unknown>);
        return true as const;
      });
    },
    'VM.getMigrationStatus': (args) => {
      const vmId = args['vmID'] as string;
      if (ctx.registry.get(vmId) === undefined) throw new NoSuchVmError(vmId);
      return answering(vmId, () => ({ vmId, ...migrations.status(vmId) }));
    },
    'VM.migrateCancel': (args) => {
      const vm = vmOf(ctx, args);
      return answering(vm.id, async () => {
        await migrations.cancel(vm.id);
        return true as const;
      });
    },
    'VM.migrateChangeParams': (args) => {
      const vm = vmOf(ctx, args);
      const { maxBandwidth } = args['params'] as { maxBandwidth: number | string };
      return answering(vm.id, async () => {
        await migrations.setBandwidth(vm.id, Number(maxBandwidth));
        return true as const;
      });
    },
    'VM.migrationCreate': (args) => {
      const vmId = args['vmID'] as string;
      return answering(vmId, () => {
        const vm = migrations.incoming.create(vmId, args['params'] as Record<string, unknown>, args['incomingLimit'] as number | undefined);
        return { migrationPort: 0, params: vm.shortStatus() };
      });
    },
  };
}
