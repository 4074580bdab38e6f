/**
 * vdsm's removed XML-RPC binding, through the JSON-RPC engine's one call path: legacy verbs
 * (`getVdsCapabilities`, `list`, `destroy`, …; flat names, positional arguments) and new-style
 * names (`Host.getStats`, positional or one struct of named params) call the same methods as
 * JSON-RPC. Results come back shaped as vdsm's API dicts, `{status: {code: 0, message: 'Done'},
 * <payload key>: result}`, the payload key being the one vdsm's Bridge took out of that dict
 * (Bridge.command_info), so the shape is the one vdsm's XML-RPC clients read. Failures are values
 * too, `{status: {code, message}}` with vdsm's codes; only protocol problems are faults (the HTTP
 * route's business). Readiness, parameter binding, the per-method metrics and the failure logs are
 * the engine's, as for any JSON-RPC call.
 */
import type { XmlRpcBackend, XmlRpcCallContext } from '../net/http/xmlrpc-backend.js';
import type { XmlRpcValue } from '../net/xmlrpc/decode.js';
import type { MethodInvoker } from '../rpc/engine.js';
import { MethodNotFoundError, RpcError, VdsmCode } from '../rpc/errors.js';
import { isRequired, type Method } from '../rpc/method-table.js';
import { RawJson } from '../rpc/raw-json.js';

type Args = Record<string, unknown>;
type Struct = { [member: string]: XmlRpcValue };

export interface Status {
  code: number;
  message: string;
}

export const DONE: Status = Object.freeze({ code: 0, message: 'Done' }) as Status;

/** A legacy verb: the method it calls and how its positional arguments are named. */
interface Verb {
  method: string | ((args: Args) => string);
  args(params: XmlRpcValue[]): Args;
  /** Called instead when the table lacks `method` (a deprecated method and its successor). */
  fallback?: string;
  /** Adjusts the payload (vdsm added `lastClient` to the capabilities it returned over XML-RPC). */
  payload?(payload: unknown, ctx: XmlRpcCallContext): unknown;
}

/** How a method's result goes into the legacy dict. */
interface Shape {
  /** `{status, [key]: result}`; 'merge': `{status, ...result}`; 'none': `{status}`. */
  key: string;
  /** The success message when it is not 'Done'. */
  message?(args: Args): string;
}

/** The payload keys vdsm's Bridge took out of the API dicts (command_info 'ret'), Host and VM. */
export const SHAPES: Readonly<Record<string, Shape>> = {
  'Host.getCapabilities': { key: 'info' },
  'Host.getStats': { key: 'info' },
  'Host.getHardwareInfo': { key: 'info' },
  'Host.getVMList': { key: 'vmList' },
  'Host.getVMFullList': { key: 'vmList' },
  'Host.getAllVmStats': { key: 'statsList' },
  'Host.getJobs': { key: 'jobs' },
  'Host.fenceNode': { key: 'merge' },
  'Host.setupNetworks': { key: 'none' },
  'Host.setKsmTune': { key: 'taskStatus' },
  'Host.hostdevListByCaps': { key: 'deviceList' },
  'Host.getStorageDomains': { key: 'domlist' },
  'Host.getStorageRepoStats': { key: 'merge' },
  'Host.getConnectedStoragePools': { key: 'poollist' },
  'Host.getDeviceList': { key: 'devList' },
  'Host.getAllTasksInfo': { key: 'allTasksInfo' },
  'Host.getAllTasksStatuses': { key: 'allTasksStatus' },
  'VM.create': { key: 'vmList' },
  'VM.destroy': { key: 'none', message: () => 'Machine destroyed' },
  'VM.shutdown': { key: 'none', message: (a) => (a['reboot'] === true ? 'Machine rebooting' : 'Machine shutting down') },
  // JSON-RPC answers {vmList: {}} for these (Bridge converter); the XML-RPC verbs answered status only.
  'VM.pause': { key: 'none' },
  'VM.cont': { key: 'none' },
  'VM.getStats': { key: 'statsList' },
  'VM.migrate': { key: 'none', message: () => 'Migration in progress' },
  'VM.getMigrationStatus': { key: 'migrationStats' },
  'VM.migrationCreate': { key: 'merge' },
  'VM.changeCD': { key: 'vmList' },
  'VM.changeFloppy': { key: 'vmList' },
  'VM.hotplugDisk': { key: 'vmList' },
  'VM.hotunplugDisk': { key: 'vmList' },
  'VM.hotplugNic': { key: 'vmList' },
  'VM.hotunplugNic': { key: 'vmList' },
  'VM.hotplugMemory': { key: 'vmList' },
  'VM.setNumberOfCpus': { key: 'vmList' },
  'VM.updateDevice': { key: 'vmList' },
  'VM.setIoTune': { key: 'taskStatus' },
  'VM.getIoTune': { key: 'ioTuneList' },
  'VM.getIoTunePolicy': { key: 'ioTunePolicyList' },
  'VM.setCpuTuneQuota': { key: 'taskStatus' },
  'VM.setCpuTunePeriod': { key: 'taskStatus' },
  'VM.hostdevHotplug': { key: 'assignedDevices' },
  'VM.hostdevHotunplug': { key: 'unpluggedDevices' },
};

/** Positional arguments named in order; XML-RPC has no None, so nil means "not given". */
function positional(...names: string[]): (params: XmlRpcValue[]) => Args {
  return (params) => {
    const args: Args = {};
    params.forEach((value, i) => {
      if (i < names.length && value !== null) args[names[i]!] = value;
    });
    return args;
  };
}

/** Verbs taking one params struct that carries the VM id as `vmId` (create, migrate, hotplug…). */
function vmStruct(name: string, ...rest: string[]): (params: XmlRpcValue[]) => Args {
  const tail = positional(...rest);
  return (params) => {
    const first = params[0];
    const struct = first !== null && typeof first === 'object' && !Array.isArray(first) && !(first instanceof Date) && !Buffer.isBuffer(first) ? (first as Struct) : undefined;
    const args: Args = { ...tail(params.slice(1)) };
    if (struct !== undefined) {
      if (struct['vmId'] !== undefined) args['vmID'] = struct['vmId'];
      args[name] = struct;
    }
    return args;
  };
}

const verb = (method: string, ...names: string[]): Verb => ({ method, args: positional(...names) });

/** vdsm's XML-RPC verbs (bindingxmlrpc.getGlobalMethods and the storage verbs that map onto Host.*),
 * with their JSON-RPC successors (jsonrpcvdscli._COMMAND_CONVERTER). */
export const LEGACY_VERBS: Readonly<Record<string, Verb>> = {
  getVdsCapabilities: {
    method: 'Host.getCapabilities',
    args: positional(),
    payload: (info, ctx) => (isStruct(info) ? { ...info, lastClient: ctx.remoteAddress } : info),
  },
  getVdsStats: verb('Host.getStats'),
  getVdsHardwareInfo: verb('Host.getHardwareInfo'),
  list: { method: (a) => (a['fullStatus'] === true ? 'Host.getVMFullList' : 'Host.getVMList'), args: positional('fullStatus', 'vmList') },
  fullList: verb('Host.getVMFullList', 'vmList'),
  getAllVmStats: verb('Host.getAllVmStats'),
  getVmStats: verb('VM.getStats', 'vmID'),
  create: { method: 'VM.create', args: vmStruct('vmParams') },
  destroy: verb('VM.destroy', 'vmID', 'gracefulAttempts'),
  shutdown: verb('VM.shutdown', 'vmID', 'delay', 'message', 'reboot', 'timeout', 'force'),
  pause: verb('VM.pause', 'vmID'),
  cont: verb('VM.cont', 'vmID'),
  reset: verb('VM.reset', 'vmID'),
  freeze: verb('VM.freeze', 'vmID'),
  thaw: verb('VM.thaw', 'vmID'),
  migrate: { method: 'VM.migrate', args: vmStruct('params') },
  migrateStatus: verb('VM.getMigrationStatus', 'vmID'),
  migrateCancel: verb('VM.migrateCancel', 'vmID'),
  migrateChangeParams: verb('VM.migrateChangeParams', 'vmID', 'params'),
  migrationCreate: { method: 'VM.migrationCreate', args: vmStruct('params', 'incomingLimit') },
  hotplugDisk: { method: 'VM.hotplugDisk', args: vmStruct('params') },
  hotunplugDisk: { method: 'VM.hotunplugDisk', args: vmStruct('params') },
  hotplugNic: { method: 'VM.hotplugNic', args: vmStruct('params') },
  hotunplugNic: { method: 'VM.hotunplugNic', args: vmStruct('params') },
  hotplugMemory: { method: 'VM.hotplugMemory', args: vmStruct('params') },
  updateVmPolicy: { method: 'VM.updateVmPolicy', args: vmStruct('params') },
  vmUpdateDevice: verb('VM.updateDevice', 'vmID', 'params'),
  setVmTicket: verb('VM.setTicket', 'vmID', 'password', 'ttl', 'existingConnAction', 'params'),
  changeCD: verb('VM.changeCD', 'vmID', 'driveSpec'),
  changeFloppy: verb('VM.changeFloppy', 'vmID', 'driveSpec'),
  setBalloonTarget: verb('VM.setBalloonTarget', 'vmID', 'target'),
  setNumberOfCpus: verb('VM.setNumberOfCpus', 'vmID', 'numberOfCpus'),
  setIoTune: verb('VM.setIoTune', 'vmID', 'tunables'),
  getIoTune: verb('VM.getIoTune', 'vmID'),
  getIoTunePolicy: verb('VM.getIoTunePolicy', 'vmID'),
  vmSetCpuTuneQuota: verb('VM.setCpuTuneQuota', 'vmID', 'quota'),
  vmSetCpuTunePeriod: verb('VM.setCpuTunePeriod', 'vmID', 'period'),
  hostdevHotplug: verb('VM.hostdevHotplug', 'vmID', 'devices'),
  hostdevHotunplug: verb('VM.hostdevHotunplug', 'vmID', 'devices'),
  // Host.ping is deprecated (vdsm 4.2); Host.ping2 answers the same when the table lacks it.
  ping: { method: 'Host.ping', args: positional(), fallback: 'Host.ping2' },
  setLogLevel: verb('Host.setLogLevel', 'level', 'name'),
  fenceNode: verb('Host.fenceNode', 'addr', 'port', 'agent', 'username', 'password', 'action', 'secure', 'options', 'policy'),
  setupNetworks: verb('Host.setupNetworks', 'networks', 'bondings', 'options'),
  setSafeNetworkConfig: verb('Host.setSafeNetworkConfig'),
  prepareForShutdown: verb('Host.prepareForShutdown'),
  setMOMPolicy: verb('Host.setMOMPolicy', 'policy'),
  setMOMPolicyParameters: verb('Host.setMOMPolicyParameters', 'key_value_store'),
  setKsmTune: verb('Host.setKsmTune', 'tuningParams'),
  setHaMaintenanceMode: verb('Host.setHaMaintenanceMode', 'mode', 'enabled'),
  getHostJobs: {
    method: 'Host.getJobs',
    // vdsm: an empty job_type (XML-RPC has no None) means any.
    args: (p) => {
      const args = positional('job_type', 'job_ids')(p);
      if (args['job_type'] === '') delete args['job_type'];
      return args;
    },
  },
  hostdevListByCaps: verb('Host.hostdevListByCaps', 'caps'),
  hostdevChangeNumvfs: verb('Host.hostdevChangeNumvfs', 'device_name', 'numvfs'),
  hostdevReattach: verb('Host.hostdevReattach', 'device_name'),
  getStorageDomainsList: verb('Host.getStorageDomains', 'storagepoolID', 'domainClass', 'storageType', 'remotePath'),
  getConnectedStoragePoolsList: verb('Host.getConnectedStoragePools'),
  repoStats: verb('Host.getStorageRepoStats'),
  getDeviceList: verb('Host.getDeviceList', 'storageType', 'guids', 'checkStatus'),
  getAllTasksInfo: verb('Host.getAllTasksInfo'),
  getAllTasksStatuses: verb('Host.getAllTasksStatuses'),
  startMonitoringDomain: verb('Host.startMonitoringDomain', 'sdUUID', 'hostID'),
  stopMonitoringDomain: verb('Host.stopMonitoringDomain', 'sdUUID'),
};

/** vdsm's answer to anything unexpected inside a verb (errCode['unexpected']). */
const UNEXPECTED: Status = Object.freeze({ code: VdsmCode.unexpected, message: 'Unexpected exception' }) as Status;

export class LegacyXmlRpc implements XmlRpcBackend {
  constructor(private readonly engine: MethodInvoker) {}

  async call(name: string, params: XmlRpcValue[], ctx: XmlRpcCallContext): Promise<Record<string, unknown>> {
    const legacy = Object.hasOwn(LEGACY_VERBS, name) ? LEGACY_VERBS[name] : undefined;
    if (legacy === undefined && !/^[A-Za-z]\w*\.\w+$/.test(name)) return failure(new MethodNotFoundError(name));
    let target = name;
    let args: Args | XmlRpcValue[];
    if (legacy !== undefined) {
      args = legacy.args(params);
      target = typeof legacy.method === 'string' ? legacy.method : legacy.method(args);
      if (legacy.fallback !== undefined && this.engine.method(target) === undefined) target = legacy.fallback;
    } else {
      const method = this.engine.method(target);
      args = method === undefined ? params : namedOrPositional(method, params);
    }
    try {
      let result = await this.engine.invoke(target, args, ctx);
      if (result instanceof RawJson) result = result.toJSON();
      if (legacy?.payload !== undefined) result = legacy.payload(result, ctx);
      return shapeResult(target, result, Array.isArray(args) ? {} : args);
    } catch (err) {
      return err instanceof RpcError ? failure(err) : { status: { ...UNEXPECTED } };
    }
  }
}

/** A new-style call's params: one struct whose members are all parameter names is named params. */
function namedOrPositional(method: Method, params: XmlRpcValue[]): Args | XmlRpcValue[] {
  if (params.length !== 1 || !isStruct(params[0])) return params;
  const struct = params[0] as Struct;
  const names = new Set(method.params.map((p) => p.name));
  const keys = Object.keys(struct);
  if (keys.every((k) => names.has(k)) && (keys.length > 0 || method.params.length === 0 || method.params.every((p) => !isRequired(p)))) {
    return struct;
  }
  return params;
}

/** The legacy dict for a result: by the method's shape, else by vdsm's xml_compat rule
 * (true → status only, list → items, text → status message, dict → merged). */
export function shapeResult(method: string, result: unknown, args: Args): Record<string, unknown> {
  const shape = SHAPES[method];
  const status: Status = shape?.message ? { code: 0, message: shape.message(args) } : { ...DONE };
  if (shape !== undefined) {
    if (shape.key === 'none') return { status };
    if (shape.key === 'merge') return isStruct(result) ? { status, ...result } : { status };
    return { status, [shape.key]: result ?? null };
  }
  if (result === undefined || result === null || result === true) return { status };
  if (Array.isArray(result)) return { status, items: result };
  if (typeof result === 'string') return { status: { code: 0, message: result } };
  if (isStruct(result)) return { status, ...result };
  return { status, result };
}

function failure(err: RpcError): Record<string, unknown> {
  return { status: { code: err.code, message: err.message } };
}

function isStruct(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

