// The load client, its own process: closed-loop callers of RepositoryExists
// on one channel for a fixed time, then one JSON line with what it saw.
// Usage: node client-main.js '<json ClientJob>'
import * as grpc from '@grpc/grpc-js';
import { makeV2AuthorizationHeader } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';
import { percentile } from './stats.js';

export interface ClientJob {
  target: string;
  storage: string;
  relativePath: string;
  token: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface ClientResult {
  phase: 'done';
  calls: number;
  /** The client's own CPU over the measured window. */
  cpuUs: number;
  errors: number;
  firstError?: string;
  seconds: number;
  callsPerSec: number;
  p50Us: number;
  p99Us: number;
}

type ExistsClient = grpc.Client & {
  RepositoryExists(request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { exists: boolean }) => void): void;
};

async function run(job: ClientJob): Promise<ClientResult> {
  const Client = grpc.makeGenericClientConstructor(requireService('gitaly.RepositoryService'), 'gitaly.RepositoryService');
  const client = new Client(job.target, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 }) as unknown as ExistsClient;
  const request = { repository: { storage_name: job.storage, relative_path: job.relativePath } };
  let header = '';
  let headerSec = -1;
  const metadata = (): grpc.Metadata => {
    const nowSec = Math.floor(Date.now() / 1000);
    if (nowSec !== headerSec) {
      header = makeV2AuthorizationHeader(job.token, nowSec);
      headerSec = nowSec;
    }
    const m = new grpc.Metadata();
    m.set('authorization', header);
    return m;
  };
  let errors = 0;
  let firstError: string | undefined;
  const call = (): Promise<void> =>
    new Promise((resolve) => {
      client.RepositoryExists(request, metadata(), { deadline: Date.now() + 30_000 }, (error, response) => {
        if (error !== null || response?.exists !== true) {
          errors++;
          firstError ??= error?.message ?? 'the repository does not exist';
        }
        resolve();
      });
    });
  const loop = async (until: number, latencies: number[] | undefined): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      await call();
      latencies?.push((performance.now() - started) * 1000);
    }
  };
  const warmupEnd = performance.now() + job.warmupMs;
  await Promise.all(Array.from({ length: job.concurrency }, () => loop(warmupEnd, undefined)));
  errors = 0;
  const latencies: number[] = [];
  // The orchestrator reads the other processes' CPU when it sees this line.
  process.stdout.write(`${JSON.stringify({ phase: 'measuring' })}\n`);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + job.durationMs;
  await Promise.all(Array.from({ length: job.concurrency }, () => loop(end, latencies)));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    phase: 'done',
    calls: latencies.length,
    cpuUs: cpu.user + cpu.system,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds,
    callsPerSec: latencies.length / seconds,
    p50Us: percentile(latencies, 50),
    p99Us: percentile(latencies, 99),
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
process.stdout.write(`${JSON.stringify(await run(job))}\n`);
process.exit(0);
