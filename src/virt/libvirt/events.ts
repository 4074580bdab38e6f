/**
 * Domain events as the addon delivers them, and their names. Lifecycle events carry vdsm-style
 * names (libvirt's virDomainEventType and its detail enums, e.g. `Suspended`/`IOError`), next to
 * the numeric codes.
 */

const LIFECYCLE_EVENTS = [
  'Defined', 'Undefined', 'Started', 'Suspended', 'Resumed', 'Stopped', 'Shutdown', 'PMSuspended', 'Crashed',
] as const;
export type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number] | 'Unknown';

const LIFECYCLE_DETAILS: readonly (readonly string[])[] = [
  ['Added', 'Updated', 'Renamed', 'FromSnapshot'],
  ['Removed', 'Renamed'],
  ['Booted', 'Migrated', 'Restored', 'FromSnapshot', 'Wakeup'],
  ['Paused', 'Migrated', 'IOError', 'Watchdog', 'Restored', 'FromSnapshot', 'APIError', 'PostCopy', 'PostCopyFailed'],
  ['Unpaused', 'Migrated', 'FromSnapshot', 'PostCopy', 'PostCopyFailed'],
  ['Shutdown', 'Destroyed', 'Crashed', 'Migrated', 'Saved', 'Failed', 'FromSnapshot'],
  ['Finished', 'Guest', 'Host'],
  ['Memory', 'Disk'],
  ['Panicked', 'CrashLoaded'],
];

export function lifecycleEventName(event: number): LifecycleEventName {
  return LIFECYCLE_EVENTS[event] ?? 'Unknown';
}

export function lifecycleDetailName(event: number, detail: number): string {
  return LIFECYCLE_DETAILS[event]?.[detail] ?? 'Unknown';
}

/** virDomainEventIOErrorAction. */
const IO_ERROR_ACTIONS = ['none', 'pause', 'report'] as const;
export type IoErrorAction = (typeof IO_ERROR_ACTIONS)[number] | 'unknown';

const AGENT_STATES = ['unknown', 'connected', 'disconnected'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
const AGENT_REASONS = ['unknown', 'domain-started', 'channel'] as const;
export type AgentReason = (typeof AGENT_REASONS)[number];

const CLOSE_REASONS = ['error', 'eof', 'keepalive', 'client'] as const;
export type CloseReasonName = (typeof CLOSE_REASONS)[number] | 'unknown';

interface DomainEventBase {
  uuid: string;
  name: string;
}

export interface LifecycleEvent extends DomainEventBase {
  kind: 'lifecycle';
  event: LifecycleEventName;
  detail: string;
  eventCode: number;
  detailCode: number;
}

export interface RebootEvent extends DomainEventBase {
  kind: 'reboot';
}

export interface IoErrorEvent extends DomainEventBase {
  kind: 'io-error';
  srcPath: string;
  devAlias: string;
  action: IoErrorAction;
  /** e.g. `enospc`, `eio`, `eperm`. */
  reason: string;
}

export interface AgentLifecycleEvent extends DomainEventBase {
  kind: 'agent-lifecycle';
  state: AgentState;
  reason: AgentReason;
}

/** A device of the domain was plugged in, unplugged, or its tray opened or closed. */
export interface DeviceChangedEvent extends DomainEventBase {
  kind: 'device-changed';
  change: DeviceChange;
  devAlias: string;
}

const DEVICE_CHANGES = ['added', 'removed', 'tray'] as const;
export type DeviceChange = (typeof DEVICE_CHANGES)[number] | 'unknown';

export interface ConnectionClosedEvent {
  kind: 'connection-closed';
  reason: CloseReasonName;
}

export interface ConnectionReopenedEvent {
  kind: 'connection-reopened';
}

export type DomainEvent = LifecycleEvent | RebootEvent | IoErrorEvent | AgentLifecycleEvent | DeviceChangedEvent;
export type LibvirtEvent = DomainEvent | ConnectionClosedEvent | ConnectionReopenedEvent;

/** What the addon hands the callback (numbers only). */
export interface RawEvent {
  kind: LibvirtEvent['kind'];
  uuid?: string;
  name?: string;
  event?: number;
  detail?: number;
  action?: number;
  state?: number;
  reason?: number | string;
  change?: number;
  srcPath?: string;
  devAlias?: string;
}

export function decodeEvent(raw: RawEvent): LibvirtEvent {
  const base = { uuid: raw.uuid ?? '', name: raw.name ?? '' };
  switch (raw.kind) {
    case 'lifecycle': {
      const event = raw.event ?? -1;
      const detail = raw.detail ?? -1;
      return {
        kind: 'lifecycle',
        ...base,
        event: lifecycleEventName(event),
        detail: lifecycleDetailName(event, detail),
        eventCode: event,
        detailCode: detail,
      };
    }
    case 'reboot':
      return { kind: 'reboot', ...base };
    case 'io-error':
      return {
        kind: 'io-error',
        ...base,
        srcPath: raw.srcPath ?? '',
        devAlias: raw.devAlias ?? '',
        action: IO_ERROR_ACTIONS[raw.action ?? -1] ?? 'unknown',
        reason: typeof raw.reason === 'string' ? raw.reason : '',
      };
    case 'agent-lifecycle':
      return {
        kind: 'agent-lifecycle',
        ...base,
        state: AGENT_STATES[raw.state ?? 0] ?? 'unknown',
        reason: AGENT_REASONS[typeof raw.reason === 'number' ? raw.reason : 0] ?? 'unknown',
      };
    case 'device-changed':
      return { kind: 'device-changed', ...base, change: DEVICE_CHANGES[raw.change ?? -1] ?? 'unknown', devAlias: raw.devAlias ?? '' };
    case 'connection-closed':
      return { kind: 'connection-closed', reason: CLOSE_REASONS[typeof raw.reason === 'number' ? raw.reason : -1] ?? 'unknown' };
    case 'connection-reopened':
      return { kind: 'connection-reopened' };
  }
}
