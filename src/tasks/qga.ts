/**
 * The contract of workers/qga.ts: the QEMU guest agent commands due for one VM, run through
 * libvirt's qemuAgentCommand, with their replies parsed in the worker.
 */
import { workerTasks } from './contract.js';

export interface AgentCommandsTask {
  uri: string;
  uuid: string;
  /** qemu-ga command names, e.g. `guest-info`; run in order. */
  commands: string[];
  /** Seconds each command may take (libvirt's agent timeout). */
  timeoutSec: number;
}

export type AgentReply =
  | { command: string; ok: true; value: unknown }
  /** `agent`: the agent answered with an error or nonsense; `libvirt`: the call itself failed. */
  | { command: string; ok: false; kind: 'agent' | 'libvirt'; message: string; code?: string };

export interface QgaTasks {
  /** The first libvirt failure ends the task: the replies stop there. */
  agentCommands(task: AgentCommandsTask): AgentReply[];
}

export const qgaTasks = workerTasks<QgaTasks>('qga', { agentCommands: true });
