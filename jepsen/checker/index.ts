// The checkers of the Jepsen harness (DESIGN §12, §14): the history format,
// a Porcupine-style linearizability checker with its models, and the pure
// checks over histories, storage write logs and Raft samples.
export { CheckerError, CheckerOptionError, HistoryFormatError, HistoryPairingError, ModelOperationError, SearchInvariantError } from './errors.js';
export { formatHistory, formatOp, parseHistory, parseOpLine, readHistory, validateOp, writeHistory, type Key, type Op, type OpType, type Process } from './history.js';
export { NEMESIS, clientOperations, pairOperations, type Operation, type Outcome } from './operations.js';
export type { Model, OpInput, OpOutcome, StepResult } from './model.js';
export { canonicalJson, hashString } from './canonical-json.js';
export { clusterStateRegister, jsonRegister, register, type RegisterOptions, type RegisterState } from './register-model.js';
export { appendList, type AppendListState } from './append-list-model.js';
export { setModel, type SetState } from './set-model.js';
export {
  checkLinearizability,
  checkOperationsLinearizable,
  type IllegalExplanation,
  type KeyVerdict,
  type LinearizabilityOptions,
  type LinearizabilityResult,
  type UnknownReason,
  type Verdict,
} from './linearizability.js';
export {
  acknowledgedWrites,
  type AcknowledgedWritesOptions,
  type AcknowledgedWritesResult,
  type KeyAcknowledgement,
  type LostWrite,
  type StaleWrite,
} from './acknowledged-writes.js';
export {
  parseWriteLog,
  splitBrain,
  splitBrainFromWriteLogs,
  type ParsedWriteLog,
  type SplitBrainResult,
  type SplitBrainViolation,
  type StorageWrite,
  type WriteLogLine,
  type WriteLogSplitBrainResult,
  type WriteLogViolation,
} from './split-brain.js';
export { raftInvariants, type RaftInvariantsResult, type RaftSample, type RaftViolation } from './raft-invariants.js';
export { availability, type AvailabilityOptions, type FaultWindow, type WindowAvailability } from './availability.js';
export { formatLinearizabilityReport, formatOperation } from './report-text.js';
