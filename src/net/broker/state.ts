/** What broker mode reports to /health and the logs. */
export type LinkState = 'disabled' | 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'stopped';

export interface BrokerStatus {
  readonly state: LinkState;
  readonly connected: boolean;
  /** Failed connection attempts since the last success. */
  readonly attempts: number;
  /** Sessions opened so far (1 + reconnections). */
  readonly sessions: number;
  readonly lastError: string | null;
  /** ms epoch of the current session's start, null when not connected. */
  readonly connectedSince: number | null;
  readonly broker: string;
  readonly requestDestinations: readonly string[];
  readonly served: number;
  readonly redeliveredDropped: number;
  readonly repliesDropped: number;
  readonly eventsPublished: number;
  /** Events emitted while no session was up (events are state updates; the next one supersedes). */
  readonly eventsDropped: number;
}
