// Stable, human-readable renderings of the Raft core's data for golden files.
//
// Notation (also in test/raft/testdata/README.md):
//   5@2            the log position index 5, term 2
//   5@2 noop       an empty normal entry (a leader's term-start no-op)
//   5@2 v1         a normal entry whose data is the UTF-8 text "v1"
//   1@1 conf:addVoter(1)   a configuration change entry
//   1->2 app t2 …  a message from 1 to 2 carrying term 2 (t0: a forwarded request)

import type { ConfChange, ConfState, Entry, HardState, Message, ReadState, Snapshot } from '../../../src/raft/core/index.js';
import { decodeConfChange } from '../../../src/raft/core/index.js';

const PLAIN = /^[A-Za-z0-9_.:/+-]+$/;

export function fmtBytes(data: Uint8Array): string {
  if (data.byteLength === 0) return '""';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (PLAIN.test(text)) return text;
  if (/^[\x20-\x7e]*$/.test(text)) return JSON.stringify(text);
  return `0x${Buffer.from(data).toString('hex')}`;
}

export function fmtIds(ids: readonly number[]): string {
  return `(${[...ids].sort((a, b) => a - b).join(',')})`;
}

export function fmtConfState(cs: ConfState): string {
  return `voters=${fmtIds(cs.voters)} learners=${fmtIds(cs.learners)}`;
}

export function fmtConfChange(cc: ConfChange): string {
  return `${cc.type}(${cc.nodeId})`;
}

export function fmtEntry(e: Entry): string {
  const pos = `${e.index}@${e.term}`;
  if (e.type === 'confChange') {
    try {
      return `${pos} conf:${fmtConfChange(decodeConfChange(e.data))}`;
    } catch {
      return `${pos} conf:${fmtBytes(e.data)}`;
    }
  }
  return e.data.byteLength === 0 ? `${pos} noop` : `${pos} ${fmtBytes(e.data)}`;
}

export function fmtEntries(entries: readonly Entry[]): string {
  return `[${entries.map(fmtEntry).join(', ')}]`;
}

export function fmtHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function fmtSnapshotMeta(s: Snapshot): string {
  return `${s.meta.index}@${s.meta.term} ${fmtConfState(s.meta.confState)} bytes=${s.data.byteLength}`;
}

export function fmtReadState(rs: ReadState): string {
  return `index=${rs.index} ctx=${fmtBytes(rs.context)}`;
}

export function fmtMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  const parts: string[] = [];
  const ctx = (): void => {
    if (m.context.byteLength > 0) parts.push(`ctx=${fmtBytes(m.context)}`);
  };
  switch (m.type) {
    case 'app':
      parts.push(`prev=${m.index}@${m.logTerm}`, `commit=${m.commit}`);
      if (m.entries.length > 0) parts.push(`entries=${fmtEntries(m.entries)}`);
      break;
    case 'appResp':
      if (m.reject) parts.push('REJECT', `index=${m.index}`, `hint=${m.rejectHint}@${m.logTerm}`);
      else parts.push(`index=${m.index}`);
      break;
    case 'vote':
    case 'preVote':
      parts.push(`last=${m.index}@${m.logTerm}`);
      ctx();
      break;
    case 'voteResp':
    case 'preVoteResp':
      if (m.reject) parts.push('REJECT');
      break;
    case 'heartbeat':
      parts.push(`commit=${m.commit}`);
      ctx();
      break;
    case 'heartbeatResp':
      ctx();
      break;
    case 'snap': {
      const c = m.snapshot;
      if (c) {
        parts.push(
          `snapshot=${c.meta.index}@${c.meta.term}`,
          `bytes=[${c.offset},${c.offset + c.data.byteLength})/${c.totalBytes}`,
          fmtConfState(c.meta.confState),
        );
      }
      break;
    }
    case 'snapResp':
      parts.push(`snapshot=${m.index}`, `want=${m.rejectHint}`);
      break;
    case 'readIndex':
      ctx();
      break;
    case 'readIndexResp':
      parts.push(`index=${m.index}`);
      ctx();
      break;
    case 'prop':
      parts.push(`entries=${fmtEntries(m.entries)}`);
      break;
    default:
      if (m.index !== 0) parts.push(`index=${m.index}`);
      if (m.commit !== 0) parts.push(`commit=${m.commit}`);
      if (m.reject) parts.push('REJECT');
      ctx();
  }
  return parts.length > 0 ? `${head} ${parts.join(' ')}` : head;
}

/** Key for the message counters: the type, with ':reject' for rejections. */
export function statKey(m: Message): string {
  return m.reject ? `${m.type}:reject` : m.type;
}
