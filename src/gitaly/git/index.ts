// git plumbing used by the services.
export { readObjects, objectInfo, type GitObject } from './cat-file.js';
export { loadCommit, loadCommits, loadTags, type TagRef } from './commits.js';
export { startOneShotDaemon, type DaemonRequest, type OneShotDaemon } from './daemon-bridge.js';
export { checksumOfShowRef, RefChecksum, ZERO_CHECKSUM } from './checksum.js';
export { parseCommit, parseTag, parseSignatureLine, MAX_MESSAGE_BYTES, type ParsedTag } from './object-parser.js';
export { pktLine, readPktLine, FLUSH_PKT, MAX_PKT_PAYLOAD_BYTES } from './pkt-line.js';
export { listRefs, resolveReference, resolveCommit, headTarget, defaultBranch, hasBranches, type RefEntry } from './refs.js';
export {
  ZERO_OID,
  isObjectId,
  isZeroOid,
  validateRevision,
  validateObjectId,
  validateReferenceName,
  isValidReferenceName,
  branchReference,
} from './revision.js';
export { updateRefs, classifyUpdateRefError, type RefUpdate } from './update-ref.js';
