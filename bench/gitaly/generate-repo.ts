// Generates a bare repository of random, incompressible blobs with
// `git fast-import`: fast, and no compression or delta can shrink it, so its
// size on disk is close to the requested size.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

export interface GeneratedRepo {
  path: string;
  totalBlobBytes: number;
  head: string;
}

export async function generateRepo(dir: string, options: { totalBytes: number; blobBytes?: number; commits?: number }): Promise<GeneratedRepo> {
  const blobBytes = options.blobBytes ?? 1024 * 1024;
  const blobs = Math.max(1, Math.round(options.totalBytes / blobBytes));
  const commits = Math.min(options.commits ?? 10, blobs);
  await execFileAsync('git', ['init', '--bare', '--quiet', dir], { env: GIT_ENV });
  await execFileAsync('git', ['--git-dir', dir, 'symbolic-ref', 'HEAD', 'refs/heads/main'], { env: GIT_ENV });
  const importer = spawn('git', ['--git-dir', dir, 'fast-import', '--quiet'], { env: GIT_ENV, stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = once(importer, 'close');
  const write = async (chunk: Buffer | string): Promise<void> => {
    if (!importer.stdin.write(chunk)) await once(importer.stdin, 'drain');
  };
  const perCommit = Math.ceil(blobs / commits);
  let mark = 0;
  for (let c = 0; c < commits; c++) {
    const first = c * perCommit;
    const files: Array<{ mark: number; name: string }> = [];
    for (let b = first; b < Math.min(first + perCommit, blobs); b++) {
      await write(`blob\nmark :${++mark}\ndata ${blobBytes}\n`);
      await write(randomBytes(blobBytes));
      await write('\n');
      files.push({ mark, name: `data/${String(b).padStart(5, '0')}.bin` });
    }
    const message = `commit ${c + 1} of ${commits}\n`;
    await write(`commit refs/heads/main\ncommitter Generator <gen@example.com> ${1_700_000_000 + c} +0000\ndata ${Buffer.byteLength(message)}\n${message}`);
    for (const file of files) await write(`M 100644 :${file.mark} ${file.name}\n`);
    await write('\n');
  }
  importer.stdin.end();
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
  const { stdout } = await execFileAsync('git', ['--git-dir', dir, 'rev-parse', 'main'], { env: GIT_ENV });
  return { path: dir, totalBlobBytes: blobs * blobBytes, head: stdout.trim() };
}
