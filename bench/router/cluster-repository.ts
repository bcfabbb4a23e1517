// A repository of generated, incompressible content, created through a
// router (so the cluster records it) and then filled on its primary's disk
// with bench/gitaly's generator: the same bytes for every way of reading it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RepositoryMetadataResponse } from '../../src/admin/index.js';
import { generateRepo } from '../gitaly/generate-repo.js';
import { createRepositoryThrough, type BenchCluster } from './bench-cluster.js';

const execFileAsync = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

export interface ClusterRepository {
  readonly metadata: RepositoryMetadataResponse;
  /** The primary's storage node: address and process id. */
  readonly node: { readonly name: string; readonly address: string; readonly pid: number };
  readonly diskPath: string;
  readonly head: string;
  /** The first generated blob. */
  readonly blobOid: string;
  readonly blobBytes: number;
  readonly totalBlobBytes: number;
}

export async function generatedClusterRepository(
  bench: BenchCluster,
  routerIndex: number,
  relativePath: string,
  size: { totalBytes: number; blobBytes: number },
): Promise<ClusterRepository> {
  const metadata = await createRepositoryThrough(bench, routerIndex, relativePath);
  const storage = bench.cluster.storage(metadata.primary);
  const diskPath = path.join(storage.storageDir, metadata.replica_path);
  // git init on the existing bare repository only re-initializes it.
  const generated = await generateRepo(diskPath, size);
  const { stdout } = await execFileAsync('git', ['--git-dir', diskPath, 'rev-parse', `${generated.head}:data/00000.bin`], { env: GIT_ENV });
  return {
    metadata,
    node: { name: storage.name, address: storage.address, pid: storage.process.pid as number },
    diskPath,
    head: generated.head,
    blobOid: stdout.trim(),
    blobBytes: size.blobBytes,
    totalBlobBytes: generated.totalBlobBytes,
  };
}
