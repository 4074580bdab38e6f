/** The host's storage adapters: its iSCSI initiator name and its Fibre Channel HBAs. */
import { parseAssignments } from './key-value.js';

/** /etc/iscsi/initiatorname.iscsi -> the InitiatorName, or '' when the file names none. */
export function parseInitiatorName(text: string | undefined): string {
  return text === undefined ? '' : (parseAssignments(text)['InitiatorName'] ?? '');
}

export interface FcHba {
  model: string;
  wwpn: string;
  wwnn: string;
}

/** The port names sysfs gives (`0x10000000c9a1b2c3`) as the engine reads them: without `0x`. */
export function fcName(text: string | undefined): string {
  return (text ?? '').trim().replace(/^0x/i, '');
}

/** `<model name> - <model description>`, each `Unknown` when the driver does not say. */
export function fcModel(name: string | undefined, description: string | undefined): string {
  return `${name?.trim() || 'Unknown'} - ${description?.trim() || 'Unknown'}`;
}

export interface HbaInventory {
  iSCSI: Array<{ InitiatorName: string }>;
  FC: FcHba[];
}

export function hbaInventory(initiatorName: string, fc: FcHba[]): HbaInventory {
  return { iSCSI: initiatorName ? [{ InitiatorName: initiatorName }] : [], FC: fc };
}
