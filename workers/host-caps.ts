/**
 * Worker tasks (contract: src/tasks/host-caps.ts): the host's capabilities, stats readings,
 * hardware and devices, from the real host files and the libvirt connection of `uri`.
 */
import type { HostCapsTasks } from '../src/tasks/host-caps.js';
import { connectionFor } from '../src/virt/libvirt/blocking.js';
import {
  gatherCapabilityFacts,
  hostFilesAt,
  readHardwareInfo,
  readHostDevices,
  readLibvirtSources,
  readStatsFacts,
} from '../src/virt/host/caps/index.js';

const files = hostFilesAt();

export const capabilities: HostCapsTasks['capabilities'] = ({ uri, agent, network }) =>
  gatherCapabilityFacts(files, readLibvirtSources(connectionFor(uri)), { agent, network });

export const statsFacts: HostCapsTasks['statsFacts'] = ({ source, ksmdPid }) => readStatsFacts(files, source, ksmdPid);

export const hardwareInfo: HostCapsTasks['hardwareInfo'] = ({ uri }) => readHardwareInfo(files, connectionFor(uri).sysinfo());

export const hostDevices: HostCapsTasks['hostDevices'] = ({ uri }) => readHostDevices(connectionFor(uri));

// The compiler checks these exports against the contract the main thread calls through.
({ capabilities, statsFacts, hardwareInfo, hostDevices }) satisfies HostCapsTasks;
