// The streaming load client, its own process: closed-loop callers of one
// streaming method on one channel for a fixed time, then one JSON line.
//   blob         GetBlob (server streaming) of one large blob, every chunk
//   upload-pack  SSHUploadPack (bidi): wants sent on the request stream, the pack read back
// Usage: node stream-client-main.js '<json StreamJob>'
import * as grpc from '@grpc/grpc-js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { percentile } from './stats.js';

export type StreamKind = 'blob' | 'upload-pack';

export interface StreamJob {
  kind: StreamKind;
  target: string;
  storage: string;
  relativePath: string;
  token: string;
  /** blob: the blob's oid; upload-pack: the commit to want. */
  oid: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface StreamResult {
  phase: 'done';
  calls: number;
  messages: number;
  bytes: number;
  cpuUs: number;
  errors: number;
  firstError?: string;
  seconds: number;
  mbPerSec: number;
  messagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

const MB = 1_000_000;
type StreamFn = (...args: unknown[]) => grpc.ClientReadableStream<Record<string, unknown>> & grpc.ClientDuplexStream<unknown, Record<string, unknown>>;

function pktLine(text: string): string {
  return (text.length + 4).toString(16).padStart(4, '0') + text;
}

/** One call; resolves with the messages and payload bytes it received. */
function oneCall(client: grpc.Client, job: StreamJob): Promise<{ messages: number; bytes: number }> {
  const repository = { storage_name: job.storage, relative_path: job.relativePath };
  const deadline = { deadline: Date.now() + 120_000 };
  const methods = client as unknown as Record<string, StreamFn>;
  let call: grpc.ClientReadableStream<Record<string, unknown>>;
  if (job.kind === 'blob') {
    call = methods['GetBlob']!.call(client, { repository, oid: job.oid, limit: -1 }, new grpc.Metadata(), deadline);
  } else {
    const duplex = methods['SSHUploadPack']!.call(client, new grpc.Metadata(), deadline);
    // upload-pack advertises refs, then reads these: a clone of one commit with side-band, as git would ask.
    const stdin = `${pktLine(`want ${job.oid} side-band-64k ofs-delta\n`)}0000${pktLine('done\n')}`;
    duplex.write({ repository, stdin: Buffer.from(stdin) });
    duplex.end();
    call = duplex;
  }
  return new Promise((resolve, reject) => {
    let messages = 0;
    let bytes = 0;
    call.on('data', (message: Record<string, unknown>) => {
      messages++;
      const payload = (job.kind === 'blob' ? message['data'] : message['stdout']) as Buffer | undefined;
      bytes += payload?.length ?? 0;
      const status = message['exit_status'] as { value?: number } | null | undefined;
      if (status && (status.value ?? 0) !== 0) reject(new Error(`upload-pack exited with ${status.value}`));
    });
    call.on('error', reject);
    call.on('end', () => (bytes > 0 ? resolve({ messages, bytes }) : reject(new Error('the stream carried no data'))));
  });
}

async function run(job: StreamJob): Promise<StreamResult> {
  const service = job.kind === 'blob' ? 'gitaly.BlobService' : 'gitaly.SSHService';
  const client = gitalyClient(service, job.target, { token: job.token, channelOptions: { 'grpc.enable_retries': 0 } });
  let errors = 0;
  let firstError: string | undefined;
  let messages = 0;
  let bytes = 0;
  const loop = async (until: number, latencies: number[] | undefined): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        const got = await oneCall(client, job);
        messages += got.messages;
        bytes += got.bytes;
        latencies?.push(performance.now() - started);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, () => loop(performance.now() + job.warmupMs, undefined)));
  errors = 0;
  messages = 0;
  bytes = 0;
  const latencies: number[] = [];
  process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // Calls that started in the window run to completion: the window is as long as they take.
  await Promise.all(Array.from({ length: job.concurrency }, () => loop(started + job.durationMs, latencies)));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    phase: 'done',
    calls: latencies.length,
    messages,
    bytes,
    cpuUs: cpu.user + cpu.system,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds,
    mbPerSec: bytes / MB / seconds,
    messagesPerSec: messages / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as StreamJob;
process.stdout.write(`${JSON.stringify(await run(job))}\n`);
process.exit(0);
