/**
 * The host's capabilities, stats readings and hardware, read from /proc, /sys, /etc and libvirt.
 * Entry points for a worker (all block):
 * - capabilities: gatherCapabilityFacts(hostFilesAt(), readLibvirtSources(connection), { agent })
 * - stats readings: readStatsFacts(hostFilesAt(), figureSource(type), previous?.ksmd?.pid)
 * - hardware: readHardwareInfo(hostFilesAt(), connection.sysinfo())
 * - host devices: readHostDevices(connection)
 * The main thread turns two stats readings into rates with cpuStatistics and ksmCpuPercent.
 */
export type { CapabilityFacts, CapabilityNumaNode } from './capability-facts.js';
export { gatherCapabilityFacts, readLibvirtSources, type GatherOptions, type LibvirtSources } from './gather.js';
export { figureSource, figuresFromHost, figuresFromNodeInfo, type FigureSource, type HostFigures } from './figures.js';
export { hostFilesAt, type HostFiles } from './host-files.js';
export { readStatsFacts, cpuStatistics, type StatsFacts, type CpuCoreStats } from './stats-facts.js';
export { ksmCpuPercent } from './ksm.js';
export { readHardwareInfo } from './read-system.js';
export { missingHardwareInfo, type HardwareInfo } from './hardware.js';
export { readHostDevices } from './read-devices.js';
export { hostDevicesByCaps, parseNodeDevice, type HostDevice, type HostDeviceParams } from './node-device.js';
