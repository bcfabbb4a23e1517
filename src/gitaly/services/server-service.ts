// ServerService: versions and per-storage state.
import type * as grpc from '@grpc/grpc-js';
import type { NodeContext } from '../node-context.js';
import { unary } from '../rpc-adapters.js';
import { filesystemId, probeStorage } from '../storage-probe.js';

const DEFAULT_READINESS_TIMEOUT_MS = 10_000;

export function serverService(node: NodeContext): grpc.UntypedServiceImplementation {
  const probeAll = (): Promise<Array<{ name: string; path: string; status: Awaited<ReturnType<typeof probeStorage>> }>> =>
    Promise.all(
      node.locator.storageNames().map(async (name) => {
        const storagePath = node.locator.storagePath(name);
        return { name, path: storagePath, status: await probeStorage(storagePath, node.config.health.min_free_bytes) };
      }),
    );

  return {
    ServerInfo: unary(async (_request, ctx) => {
      const [gitVersion, storages] = await Promise.all([readGitVersion(node, ctx.signal), probeAll()]);
      return {
        server_version: node.version,
        git_version: gitVersion,
        storage_statuses: await Promise.all(
          storages.map(async ({ name, path, status }) => ({
            storage_name: name,
            readable: status.readable,
            writeable: status.writeable,
            fs_type: '',
            filesystem_id: status.readable ? await filesystemId(path).catch(() => '') : '',
            replication_factor: 0,
          })),
        ),
      };
    }),

    DiskStatistics: unary(async () => ({
      storage_statuses: (await probeAll()).map(({ name, status }) => ({
        storage_name: name,
        available: status.availableBytes,
        used: status.usedBytes,
      })),
    })),

    ReadinessCheck: unary(async (request: { timeout: { seconds: number; nanos: number } | null }, ctx) => {
      const timeoutMs = request.timeout === null ? DEFAULT_READINESS_TIMEOUT_MS : request.timeout.seconds * 1000 + request.timeout.nanos / 1e6;
      const failures = await withTimeout(readinessFailures(node, probeAll, ctx.signal), timeoutMs);
      if (failures.length === 0) return { ok_response: {} };
      return { failure_response: { failed_checks: failures } };
    }),
  };
}

async function readinessFailures(
  node: NodeContext,
  probeAll: () => Promise<Array<{ name: string; status: { writeable: boolean; error?: string } }>>,
  signal: AbortSignal,
): Promise<FailedCheck[]> {
  const failures: FailedCheck[] = [];
  try {
    await readGitVersion(node, signal);
  } catch (error) {
    failures.push({ name: 'git', error_message: error instanceof Error ? error.message : String(error) });
  }
  for (const { name, status } of await probeAll()) {
    if (!status.writeable) failures.push({ name: `storage ${name}`, error_message: status.error ?? 'not writeable' });
  }
  return failures;
}

type FailedCheck = { name: string; error_message: string };

/** The checks' failures, or one failure saying they did not finish in time. */
async function withTimeout(work: Promise<FailedCheck[]>, timeoutMs: number): Promise<FailedCheck[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<FailedCheck[]>((resolve) => {
    timer = setTimeout(() => resolve([{ name: 'readiness', error_message: `checks did not finish within ${timeoutMs} ms` }]), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function readGitVersion(node: NodeContext, signal: AbortSignal): Promise<string> {
  const { stdout } = await node.git.run({ args: ['version'], signal });
  return stdout.toString('utf8').trim().replace(/^git version /, '');
}
