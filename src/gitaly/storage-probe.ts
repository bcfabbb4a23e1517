// What a storage's filesystem can do right now: read, write, free space.
// Health checks, ServerInfo and DiskStatistics all ask here.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readFile, rename, statfs, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { INTERNAL_DIR } from './relative-path.js';

export interface StorageStatus {
  readable: boolean;
  /** A probe file could be written and there is at least minFreeBytes free. */
  writeable: boolean;
  availableBytes: number;
  usedBytes: number;
  error?: string;
}

const METADATA_FILE = '.gitaly-metadata';

export async function probeStorage(storagePath: string, minFreeBytes: number): Promise<StorageStatus> {
  const status: StorageStatus = { readable: false, writeable: false, availableBytes: 0, usedBytes: 0 };
  try {
    await access(storagePath, constants.R_OK | constants.X_OK);
    status.readable = true;
    const fs = await statfs(storagePath);
    status.availableBytes = fs.bavail * fs.bsize;
    status.usedBytes = (fs.blocks - fs.bfree) * fs.bsize;
    await writeProbe(storagePath);
    if (status.availableBytes < minFreeBytes) {
      status.error = `${status.availableBytes} bytes free, below the minimum of ${minFreeBytes}`;
      return status;
    }
    status.writeable = true;
  } catch (error) {
    status.error = error instanceof Error ? error.message : String(error);
  }
  return status;
}

// access(W_OK) says yes to root on a read-only mount; only a write tells.
async function writeProbe(storagePath: string): Promise<void> {
  const dir = path.join(storagePath, INTERNAL_DIR, 'tmp');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `health-${randomUUID()}`);
  try {
    await writeFile(file, 'ok');
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/** The storage's filesystem id from .gitaly-metadata, created on first use as Gitaly does. */
export async function filesystemId(storagePath: string): Promise<string> {
  const file = path.join(storagePath, METADATA_FILE);
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { gitaly_filesystem_id?: unknown };
    if (typeof parsed.gitaly_filesystem_id === 'string') return parsed.gitaly_filesystem_id;
  } catch {
    // Missing or unreadable: write a fresh one below.
  }
  const id = randomUUID();
  const temp = `${file}.${id}.tmp`;
  await writeFile(temp, JSON.stringify({ gitaly_filesystem_id: id }));
  await rename(temp, file);
  return id;
}
