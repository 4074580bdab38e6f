/**
 * piscina task module for the QEMU guest agent poller: one task runs the commands due for one VM
 * through libvirt's qemuAgentCommand (virDomainQemuAgentCommand), each with its own short timeout,
 * and hands back the parsed replies as plain data. Blocking is this thread's business; the main
 * thread only sees the outcome. The first libvirt failure (agent missing, not connected, timed
 * out) ends the task: the poller then leaves the VM alone for a while.
 */
import { LibvirtError } from '../src/virt/libvirt/index.js';
import { connectionFor } from '../src/virt/libvirt/worker-connection.js';


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

/** The exact request vdsm sends: `{"execute": "guest-info"}`. */
export function agentRequest(command: string): string {
  return `{"execute": ${JSON.stringify(command)}}`;
}

/** A qemu-ga reply as `{ok, value}`: its `return`, or why there is none. */
export function parseAgentReply(command: string, text: string): AgentReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { command, ok: false, kind: 'agent', message: `unparsable reply (${text.length} bytes)` };
  }
  if (parsed === null || typeof parsed !== 'object') return { command, ok: false, kind: 'agent', message: 'reply is not an object' };
  const reply = parsed as Record<string, unknown>;
  if ('error' in reply) return { command, ok: false, kind: 'agent', message: JSON.stringify(reply['error']).slice(0, 300) };
  if (!('return' in reply)) return { command, ok: false, kind: 'agent', message: 'reply without return' };
  return { command, ok: true, value: reply['return'] };
}

export function agentCommands(task: AgentCommandsTask): AgentReply[] {
  const conn = connectionFor(task.uri);
  const replies: AgentReply[] = [];
  for (const command of task.commands) {
    let text: string;
    try {
      text = conn.qemuAgentCommand(task.uuid, agentRequest(command), task.timeoutSec);
    } catch (err) {
      if (!(err instanceof LibvirtError)) throw err;
      replies.push({ command, ok: false, kind: 'libvirt', message: err.message, code: err.codeName });
      break;
    }
    replies.push(parseAgentReply(command, text));
  }
  return replies;
}

export default agentCommands;
