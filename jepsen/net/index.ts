// The network-fault layer of the Jepsen harness.
//
// Default backend (no root): a FaultProxy per ordered pair of nodes, managed
// by Network; node X's configuration points at network.addressFor(X, Y).
// Faults are on directed links: A->B governs A's bytes toward B on every
// connection between them. Partition shapes are pure functions to cut sets;
// nemesisSchedule turns a seed into timed start/stop events, and
// applyNetworkEvent carries out the network ones on either backend.
// Optional backend (root): NetnsNetwork, namespaces joined by a bridge.
export * from './errors.js';
export { mulberry32, type Prng } from './prng.js';
export { PASS, BLACKHOLE, RESET, delayMode, sameMode, type LinkMode } from './link-mode.js';
export { linkKey, canonicalLinks, formatLink, type DirectedLink } from './directed-link.js';
export type { OverflowPolicy } from './directional-pump.js';
export { FaultProxy, type FaultProxyOptions, type FaultProxyStats, type DirectionStats, type HostPort, type LinkModes } from './fault-proxy.js';
export {
  groupsCuts,
  isolateCuts,
  halves,
  halvesCuts,
  bridgeShape,
  bridgeCuts,
  majoritiesRingCuts,
  oneWayCuts,
  type BridgeShape,
} from './partition-shapes.js';
export { linksBetween, linksOf, type LinkSelector, type PartitionBackend } from './partition-backend.js';
export { Network, parseHostPort, formatHostPort, type NetworkOptions, type ProxyLimits } from './network.js';
export {
  NEMESIS_NAMES,
  nemesisSchedule,
  nemesesFor,
  type NemesisName,
  type NemesisEvent,
  type Fault,
  type PartitionShape,
  type ScheduleOptions,
} from './nemesis-schedule.js';
export { applyNetworkEvent, isNetworkFault, type NetworkFaultContext } from './nemesis-executor.js';
export { detectHostTools, netnsMissing, requireNetns, findExecutable, runHostCommand, type HostTools, type HostCommandOptions } from './host-tools.js';
export { NetnsNetwork, type NetnsOptions, type DropMethod } from './netns-network.js';
