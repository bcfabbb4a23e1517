// Parses raw commit and tag objects (as `git cat-file --batch` prints them)
// into the protocol's messages.
import type { CommitAuthorMsg, GitCommitMsg, SignatureTypeName, TagMsg } from '../wire-types.js';

/** Upstream cuts commit and tag messages at this size; body_size keeps the full length. */
export const MAX_MESSAGE_BYTES = 10 * 1024;

interface RawObject {
  headers: Array<[string, Buffer]>;
  message: Buffer;
}

/** Splits headers (with continuation lines) from the message. */
function splitObject(data: Buffer): RawObject {
  const end = data.indexOf('\n\n');
  const headerPart = end < 0 ? data : data.subarray(0, end);
  const message = end < 0 ? Buffer.alloc(0) : data.subarray(end + 2);
  const headers: Array<[string, Buffer]> = [];
  for (const line of splitLines(headerPart)) {
    const last = headers[headers.length - 1];
    if (line[0] === 0x20 && last !== undefined) {
      last[1] = Buffer.concat([last[1], Buffer.from('\n'), line.subarray(1)]);
      continue;
    }
    const space = line.indexOf(0x20);
    if (space < 0) headers.push([line.toString('latin1'), Buffer.alloc(0)]);
    else headers.push([line.subarray(0, space).toString('latin1'), line.subarray(space + 1)]);
  }
  return { headers, message };
}

function splitLines(buffer: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start <= buffer.length) {
    const nl = buffer.indexOf(0x0a, start);
    if (nl < 0) {
      if (start < buffer.length) lines.push(buffer.subarray(start));
      break;
    }
    lines.push(buffer.subarray(start, nl));
    start = nl + 1;
  }
  return lines;
}

/** "Name <email> 1700000000 +0100" */
export function parseSignatureLine(value: Buffer): CommitAuthorMsg {
  const open = value.lastIndexOf('<');
  const close = value.lastIndexOf('>');
  if (open < 0 || close < open) return { name: value, email: Buffer.alloc(0), date: null, timezone: Buffer.alloc(0) };
  const name = value.subarray(0, open > 0 && value[open - 1] === 0x20 ? open - 1 : open);
  const email = value.subarray(open + 1, close);
  const [secondsText, timezone] = value.subarray(close + 1).toString('latin1').trim().split(' ');
  const seconds = Number(secondsText);
  return {
    name,
    email,
    date: Number.isSafeInteger(seconds) ? { seconds, nanos: 0 } : null,
    timezone: Buffer.from(timezone ?? ''),
  };
}

export function signatureTypeOf(signature: Buffer | undefined): SignatureTypeName {
  if (signature === undefined) return 'NONE';
  const text = signature.subarray(0, 64).toString('latin1');
  if (text.startsWith('-----BEGIN PGP SIGNATURE-----')) return 'PGP';
  if (text.startsWith('-----BEGIN SIGNED MESSAGE-----')) return 'X509';
  if (text.startsWith('-----BEGIN SSH SIGNATURE-----')) return 'SSH';
  return 'NONE';
}

/** The first line of a message, without its line ending. */
export function subjectOf(message: Buffer): Buffer {
  const nl = message.indexOf(0x0a);
  const line = nl < 0 ? message : message.subarray(0, nl);
  return line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
}

export function parseCommit(id: string, data: Buffer): GitCommitMsg {
  const { headers, message } = splitObject(data);
  const header = (name: string): Buffer | undefined => headers.find(([key]) => key === name)?.[1];
  const signature = header('gpgsig') ?? header('gpgsig-sha256');
  const author = header('author');
  const committer = header('committer');
  return {
    id,
    subject: subjectOf(message),
    body: message.subarray(0, MAX_MESSAGE_BYTES),
    author: author === undefined ? null : parseSignatureLine(author),
    committer: committer === undefined ? null : parseSignatureLine(committer),
    parent_ids: headers.filter(([key]) => key === 'parent').map(([, value]) => value.toString('latin1')),
    body_size: message.length,
    signature_type: signatureTypeOf(signature),
    tree_id: header('tree')?.toString('latin1') ?? '',
    trailers: [],
    short_stats: null,
    referenced_by: [],
    encoding: header('encoding')?.toString('latin1') ?? '',
  };
}

export interface ParsedTag {
  targetId: string;
  targetType: string;
  name: Buffer;
  tag: Omit<TagMsg, 'name' | 'id' | 'target_commit'>;
}

const SIGNATURE_MARKERS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN SIGNED MESSAGE-----', '-----BEGIN SSH SIGNATURE-----'];

export function parseTag(data: Buffer): ParsedTag {
  const { headers, message } = splitObject(data);
  const header = (name: string): Buffer | undefined => headers.find(([key]) => key === name)?.[1];
  const tagger = header('tagger');
  // A signed tag carries its signature at the end of the message.
  const signatureAt = Math.min(...SIGNATURE_MARKERS.map((m) => message.indexOf(m)).filter((i) => i >= 0), message.length);
  const text = message.subarray(0, signatureAt);
  return {
    targetId: header('object')?.toString('latin1') ?? '',
    targetType: header('type')?.toString('latin1') ?? '',
    name: header('tag') ?? Buffer.alloc(0),
    tag: {
      message: text.subarray(0, MAX_MESSAGE_BYTES),
      message_size: text.length,
      tagger: tagger === undefined ? null : parseSignatureLine(tagger),
      signature_type: signatureTypeOf(signatureAt < message.length ? message.subarray(signatureAt) : undefined),
    },
  };
}
