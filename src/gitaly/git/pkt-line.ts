// Git's pkt-line framing: four hex digits of length (including themselves),
// then the payload; "0000" is a flush packet.

export const FLUSH_PKT = Buffer.from('0000');
export const MAX_PKT_PAYLOAD_BYTES = 65516;

export function pktLine(payload: string | Buffer): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (data.length > MAX_PKT_PAYLOAD_BYTES) throw new Error(`pkt-line payload of ${data.length} bytes is too long`);
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
}

/**
 * Reads the first pkt-line of a buffer: its payload and the bytes after it,
 * or undefined when the buffer does not hold a whole line yet.
 */
export function readPktLine(buffer: Buffer): { payload: Buffer; rest: Buffer } | undefined {
  if (buffer.length < 4) return undefined;
  const length = Number.parseInt(buffer.subarray(0, 4).toString('latin1'), 16);
  if (!Number.isFinite(length) || (length !== 0 && length < 4)) throw new Error('invalid pkt-line length');
  if (length === 0) return { payload: Buffer.alloc(0), rest: buffer.subarray(4) };
  if (buffer.length < length) return undefined;
  return { payload: buffer.subarray(4, length), rest: buffer.subarray(length) };
}
