/**
 * The destination's side of a migration (vdsm's migrationCreate): the source asks this host to
 * take a VM before libvirt sends it. The VM is checked and admitted (admission.ts), registered as
 * "Migration Destination", and waits for its domain: libvirt's Resumed/Migrated event makes it Up.
 * A VM that has not arrived within the destination timeout is given up: whatever arrived of its
 * domain is destroyed and the VM removed, so a source that died leaves nothing behind.
 */
import type { Logger } from '../../log.js';
import { DomainXmlError, parseDomainXml, type DomainDescription } from '../domain-xml.js';
import type { VmRegistry } from '../registry.js';
import type { Vm } from '../vm.js';
import { admit, type AdmissionPolicy, type Capacity } from './admission.js';
import { MigrationError, MigrationErrorCode } from './errors.js';

export interface IncomingDeps {
  registry: VmRegistry;
  /** The resource view's figures; undefined before the first host sample. */
  capacity(): Capacity | undefined;
  refreshResources(): void;
  /** Destroys and undefines the domain if there is one (off the main thread). */
  removeDomain(vmId: string): Promise<void>;
  /** The arrived domain as libvirt describes it now (device names are the destination's). */
  describe(vmId: string): Promise<DomainDescription>;
  log: Logger;
}

export interface IncomingSettings {
  maxIncoming: number;
  /** Seconds to wait for an admitted VM to arrive. */
  timeoutSeconds: number;
  admission: AdmissionPolicy;
}

export class IncomingMigrations {
  private readonly waiting = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: IncomingDeps,
    private readonly settings: IncomingSettings,
  ) {
    deps.registry.onStatus((vm) => {
      if (vm.status !== 'Migration Destination' && this.waiting.has(vm.id)) this.ended(vm);
    });
    deps.registry.onRemoved((vm) => this.forget(vm.id));
  }

  get count(): number {
    return this.waiting.size;
  }

  /** VM.migrationCreate: admits and registers the VM, or refuses with vdsm's code. */
  create(vmId: string, params: Record<string, unknown>, incomingLimit: number | undefined): Vm {
    if (this.deps.registry.get(vmId)) throw new MigrationError(MigrationErrorCode.exist, `VM ${vmId} is already on this host`);
    const limit = incomingLimit && incomingLimit > 0 ? incomingLimit : this.settings.maxIncoming;
    if (this.waiting.size >= limit) throw new MigrationError(MigrationErrorCode.migrateLimit, `${this.waiting.size} incoming migrations already (limit ${limit})`);
    const xml = params['_srcDomXML'] ?? params['xml'];
    if (typeof xml !== 'string' || xml.trim() === '') throw new MigrationError(MigrationErrorCode.migrateErr, 'params._srcDomXML, the domain XML, is required');
    let description: DomainDescription;
    try {
      description = parseDomainXml(xml);
    } catch (err) {
      if (err instanceof DomainXmlError) throw new MigrationError(MigrationErrorCode.migrateErr, err.message);
      throw err;
    }
    if (description.uuid !== '' && description.uuid !== vmId.toLowerCase()) {
      throw new MigrationError(MigrationErrorCode.migrateErr, `the domain XML is VM ${description.uuid}, not ${vmId}`);
    }
    const capacity = this.deps.capacity();
    if (capacity === undefined) throw new MigrationError(MigrationErrorCode.migrateErr, "this host's resources are not known yet");
    const admission = admit({ memoryMiB: Math.ceil(description.memoryKiB / 1024), vcpus: description.vcpus }, capacity, this.settings.admission);
    if (!admission.admitted) throw new MigrationError(MigrationErrorCode.outOfMem, admission.reason);

    const vm = this.deps.registry.add(vmId, description.name, 'Migration Destination');
    vm.describe(description);
    this.deps.refreshResources();
    this.waiting.set(vmId, setTimeout(() => void this.giveUp(vm), this.settings.timeoutSeconds * 1000));
    this.deps.log.info({ vmId, memoryMiB: Math.ceil(description.memoryKiB / 1024), vcpus: description.vcpus }, 'incoming migration admitted');
    return vm;
  }

  private forget(vmId: string): void {
    clearTimeout(this.waiting.get(vmId));
    this.waiting.delete(vmId);
  }

  private ended(vm: Vm): void {
    this.forget(vm.id);
    if (!vm.running) return;
    this.deps.log.info({ vmId: vm.id }, 'incoming migration arrived');
    // Device names (the NICs' vnetN) are this host's: read them off the arrived domain.
    this.deps.describe(vm.id).then(
      (description) => vm.describe(description),
      (err: unknown) => this.deps.log.warn({ vmId: vm.id, err }, 'could not read the arrived domain'),
    );
  }

  private async giveUp(vm: Vm): Promise<void> {
    this.waiting.delete(vm.id);
    if (vm.status !== 'Migration Destination' || this.deps.registry.get(vm.id) !== vm) return;
    this.deps.log.warn({ vmId: vm.id, waitedSeconds: this.settings.timeoutSeconds }, 'incoming migration did not arrive in time; removing it');
    try {
      await this.deps.removeDomain(vm.id);
    } catch (err) {
      this.deps.log.error({ vmId: vm.id, err }, 'could not remove the domain of an incoming migration that did not arrive');
    }
    this.deps.registry.remove(vm.id);
    this.deps.refreshResources();
  }
}
