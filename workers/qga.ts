/**
 * piscina task module for the QEMU guest agent poller (contract: src/tasks/qga.ts): one task runs the commands due for one VM
 * through libvirt's qemuAgentCommand (virDomainQemuAgentCommand), each with its own short timeout,
 * and hands back the parsed replies as plain data. Blocking is this thread's business; the main
 * thread only sees the outcome. The first libvirt failure (agent missing, not connected, timed
 * out) ends the task: the poller then leaves the VM alone for a while.
 */
import type { AgentCommandsTask, AgentReply, QgaTasks } from '../src/tasks/qga.js';
import { connectionFor } from '../src/virt/libvirt/blocking.js';
import { LibvirtError } from '../src/virt/libvirt/errors.js';

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

// The compiler checks these exports against the contract the main thread calls through.
({ agentCommands }) satisfies QgaTasks;
