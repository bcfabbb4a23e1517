// The storage node's write log ([audit] write_log) on a real bin/gitaly
// process: which calls get a line, what the line says, that a SIGKILL right
// after an OK keeps its line, rotation at the size cap, and the marker's
// encoder and decoder.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import {
  WRITE_MARKER_METADATA_KEY,
  decodeWriteMarker,
  encodeWriteMarker,
  parseWriteMarker,
  withWriteMarker,
  type WriteLogEntry,
  type WriteMarker,
} from '../../src/gitaly/index.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { FLUSH_PKT, pktLine } from '../../src/gitaly/git/pkt-line.js';
import { git, gitOutput, seedWorkRepo, tempDir } from './fixtures/git.js';
import { distAvailable, startProcessNode, type ProcessNode } from './fixtures/node.js';
import { Rpc, statusOf } from './fixtures/rpc.js';

const marker: WriteMarker = { repositoryId: 7, generation: 3, primary: true, router: 'praefect-1' };
const user = { gl_id: 'user-1', name: Buffer.from('Jane Doe'), email: Buffer.from('jane@example.com'), gl_username: 'jane', timezone: 'UTC' };

function markerMetadata(m: WriteMarker = marker): grpc.Metadata {
  return withWriteMarker(new grpc.Metadata(), m);
}

function readLog(file: string): WriteLogEntry[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as WriteLogEntry);
}

t.test('the marker round-trips, and each malformed field is named', async (t) => {
  t.same(decodeWriteMarker(encodeWriteMarker(marker)), marker);
  t.same(decodeWriteMarker(encodeWriteMarker({ ...marker, generation: -1, primary: false })), { ...marker, generation: -1, primary: false });
  t.same(JSON.parse(Buffer.from(encodeWriteMarker(marker), 'base64').toString()), { repository_id: 7, generation: 3, primary: true, router: 'praefect-1' }, 'the wire names are snake_case');
  t.equal(parseWriteMarker(new grpc.Metadata()), undefined, 'no header, no marker');
  t.same(parseWriteMarker(markerMetadata()), marker);
  const wire = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');
  const good = { repository_id: 7, generation: 3, primary: true, router: 'r' };
  const cases: [string, RegExp][] = [
    ['%%%', /not base64-encoded JSON/],
    [wire([1]), /not a JSON object/],
    [wire({ ...good, repository_id: 0 }), /repository_id: must be a positive integer/],
    [wire({ ...good, repository_id: '7' }), /repository_id: /],
    [wire({ ...good, generation: -2 }), /generation: must be an integer of at least -1/],
    [wire({ ...good, generation: 1.5 }), /generation: /],
    [wire({ ...good, primary: 'yes' }), /primary: must be true or false/],
    [wire({ ...good, router: '' }), /router: must be a name/],
    [wire({ ...good, router: undefined }), /router: /],
    [wire({ ...good, write: '' }), /write: must be an id of 1 to 64 characters/],
    [wire({ ...good, write: 7 }), /write: /],
  ];
  const identified = { ...marker, write: 'f1e2d3c4-intent' };
  t.same(decodeWriteMarker(encodeWriteMarker(identified)), identified, 'the write id round-trips');
  for (const [value, reason] of cases) t.throws(() => decodeWriteMarker(value), { code: 'invalid_argument', message: reason }, String(reason));
  t.throws(() => encodeWriteMarker({ ...marker, repositoryId: -3 }), { message: /repository_id/ }, 'the encoder validates too');
  const twice = new grpc.Metadata();
  twice.add(WRITE_MARKER_METADATA_KEY, encodeWriteMarker(marker));
  twice.add(WRITE_MARKER_METADATA_KEY, encodeWriteMarker(marker));
  t.throws(() => parseWriteMarker(twice), { message: /2 values, expected one/ });
});

if (!distAvailable()) {
  t.plan(1, 'dist/ is missing: run `npm run build` first (npm test does)');
} else {
  const startLogged = async (audit: Record<string, unknown>): Promise<{ node: ProcessNode; rpc: Rpc }> => {
    const node = await startProcessNode({ extra: { audit } });
    const rpc = new Rpc(node.address);
    return { node, rpc };
  };

  t.test('one line per OK mutator that carries the marker, written before the OK', async (t) => {
    const dir = await tempDir('write-log-');
    const file = path.join(dir, 'nested', 'writes.jsonl');
    const { node, rpc } = await startLogged({ write_log: file });
    t.teardown(async () => {
      rpc.close();
      await node.close();
    });
    const repository = { storage_name: 'default', relative_path: 'logged.git' };
    await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository }, markerMetadata({ ...marker, generation: -1 }));
    const commit = await rpc.clientStream<{ branch_update: { commit_id: string } }>(
      '/gitaly.OperationService/UserCommitFiles',
      [
        { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('first') } },
        { action: { header: { action: 'CREATE', file_path: Buffer.from('a.txt') } } },
        { action: { content: Buffer.from('a\n') } },
      ],
      markerMetadata({ ...marker, generation: 0 }),
    );
    const lines = readLog(file);
    t.equal(lines.length, 2, 'CreateRepository and the client-streaming UserCommitFiles');
    t.match(lines[0], { storage: 'default', relative_path: 'logged.git', method: '/gitaly.RepositoryService/CreateRepository', repository_id: 7, generation: -1, primary: true, router: 'praefect-1' });
    t.match(lines[1], { storage: 'default', relative_path: 'logged.git', method: '/gitaly.OperationService/UserCommitFiles', generation: 0 });
    t.ok(Number.isFinite(Date.parse(lines[0]!.time)), 'time is a date');

    await rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/x'), revision: Buffer.from(commit.branch_update.commit_id) });
    t.equal(readLog(file).length, 2, 'a mutator without the marker gets no line');
    await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/x') }, markerMetadata());
    t.equal(readLog(file).length, 2, 'an accessor gets no line, marker or not');
    const refused = rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/x'), revision: Buffer.from(commit.branch_update.commit_id), old_revision: Buffer.from('0'.repeat(40)) }, markerMetadata());
    t.equal(await statusOf(refused), grpc.status.FAILED_PRECONDITION);
    t.equal(readLog(file).length, 2, 'a failed mutator gets no line');
    const bad = new grpc.Metadata();
    bad.set(WRITE_MARKER_METADATA_KEY, Buffer.from(JSON.stringify({ repository_id: 7, generation: 'x', primary: true, router: 'r' })).toString('base64'));
    const malformed = rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/y'), revision: Buffer.from(commit.branch_update.commit_id) }, bad);
    await t.rejects(malformed, { code: grpc.status.INVALID_ARGUMENT, details: /praefect-write: generation: / });
    t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/y') }), { value: false }, 'a malformed marker refuses the call before it runs');

    // A response-streaming mutator: its line is written as the stream ends OK.
    const work = await seedWorkRepo();
    const pushed = await git(work.dir, 'rev-parse', 'main');
    const pack = await gitOutput(work.dir, `${pushed}\n`, 'pack-objects', '--revs', '--stdout', '-q');
    const body = Buffer.concat([pktLine(`${'0'.repeat(40)} ${pushed} refs/heads/pushed\0report-status\n`), FLUSH_PKT, pack]);
    const pushRepository = { storage_name: 'default', relative_path: 'pushed.git' };
    await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: pushRepository });
    const report = await rpc.bidi<{ data: Buffer }>('/gitaly.SmartHTTPService/PostReceivePack', [{ repository: pushRepository, data: body.subarray(0, 10) }, { data: body.subarray(10) }], markerMetadata({ ...marker, repositoryId: 8 }));
    t.match(Buffer.concat(report.map((m) => m.data)).toString(), /ok refs\/heads\/pushed/);
    t.match(readLog(file).at(-1), { method: '/gitaly.SmartHTTPService/PostReceivePack', relative_path: 'pushed.git', repository_id: 8 });
    t.equal(readLog(file).length, 3);

    await rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/z'), revision: Buffer.from(commit.branch_update.commit_id) }, markerMetadata({ ...marker, generation: 1, primary: false, router: 'praefect-2' }));
    // SIGKILL right after the OK: nothing buffered in the process, so the line is on disk.
    const exited = new Promise((resolve) => node.child.once('exit', resolve));
    node.child.kill('SIGKILL');
    await exited;
    const after = readLog(file);
    t.equal(after.length, 4);
    t.match(after[3], { method: '/gitaly.RepositoryService/WriteRef', generation: 1, primary: false, router: 'praefect-2' });
  });

  t.test('the log rotates at its size cap and keeps one rotated file', async (t) => {
    const dir = await tempDir('write-log-');
    const file = path.join(dir, 'writes.jsonl');
    const { node, rpc } = await startLogged({ write_log: file, write_log_max_bytes: 4096 });
    t.teardown(async () => {
      rpc.close();
      await node.close();
    });
    const writes = 40;
    for (let i = 0; i < writes; i++) {
      await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'default', relative_path: `r/${i}.git` } }, markerMetadata({ ...marker, repositoryId: i + 1 }));
    }
    const rotated = `${file}.1`;
    t.ok(existsSync(rotated), 'a rotated file exists');
    t.ok(statSync(file).size <= 4096 && statSync(rotated).size <= 4096, 'both files within the cap');
    const kept = [...readLog(rotated), ...readLog(file)];
    t.ok(kept.length > 0 && kept.length < writes, `only the newest lines are kept (${kept.length} of ${writes})`);
    t.same(
      kept.map((e) => e.repository_id),
      Array.from({ length: kept.length }, (_, k) => writes - kept.length + k + 1),
      'the rotated file then the current one hold the newest lines in order',
    );
  });

  t.test('an invalid [audit] is refused with the key', async (t) => {
    const dir = await tempDir('write-log-');
    const run = async (audit: string): Promise<{ code: number | null; stderr: string }> => {
      const file = path.join(dir, 'config.toml');
      await writeFile(file, `listen_addr = "127.0.0.1:0"\n[[storage]]\nname = "default"\npath = ${JSON.stringify(dir)}\n[audit]\n${audit}\n`);
      return new Promise((resolve) => {
        const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, path.join(findProjectRoot(), 'bin', 'gitaly'), file], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    };
    const relative = await run('write_log = "writes.jsonl"');
    t.equal(relative.code, 2);
    t.match(relative.stderr, /audit\.write_log: must be an absolute path/);
    const small = await run(`write_log = ${JSON.stringify(path.join(dir, 'w.jsonl'))}\nwrite_log_max_bytes = 10`);
    t.equal(small.code, 2);
    t.match(small.stderr, /audit\.write_log_max_bytes: /);
    const unopenable = await run(`write_log = ${JSON.stringify(dir)}`);
    t.equal(unopenable.code, 2, 'a folder cannot be opened as the log');
    t.match(unopenable.stderr, /audit\.write_log: cannot open/);
  });
}
