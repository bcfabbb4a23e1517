// Disk full, for real (root: a tmpfs): the storage probe behind a node's
// Health reports a full filesystem as not writeable, both by the free-space
// floor and by a write that fails with ENOSPC; the DiskFiller fills a mount
// to the last byte, frees it, and unmounts it; the disk-full scenario and its
// expectation. Skipped with the reason when not root.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { probeStorage } from '../../../src/gitaly/storage-probe.js';
import { buildConfig, buildScenarioConfig, checkExpectation, DiskFiller, diskFaultMissing } from '../../../jepsen/harness/index.js';
import { clientOperations, pairOperations, type Op, type StorageWrite } from '../../../jepsen/checker/index.js';

const missing = diskFaultMissing();
const skip = missing ?? false;
const MIB = 1024 * 1024;

function mountedAt(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === dir);
}

t.test('a full storage filesystem is not writeable: by the free-space floor and by ENOSPC', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jepsen-disk-'));
  const disks = await DiskFiller.mount([dir], 4 * MIB);
  t.teardown(async () => {
    await disks.unmountAll();
    rmSync(dir, { recursive: true, force: true });
  });
  t.ok(mountedAt(dir), 'a tmpfs is mounted on the folder');
  const fresh = await probeStorage(dir, 0);
  t.ok(fresh.writeable, 'an empty 4 MiB disk is writeable');
  t.ok(fresh.availableBytes > 3 * MIB && fresh.availableBytes <= 4 * MIB, `${fresh.availableBytes} bytes free`);
  t.notOk((await probeStorage(dir, 16 * MIB)).writeable, 'below a 16 MiB floor (the node default) it is not');

  const written = await disks.fill(dir);
  t.ok(written > 3 * MIB, `filled with ${written} bytes`);
  const full = await probeStorage(dir, 0);
  t.equal(full.availableBytes, 0, 'nothing free');
  t.notOk(full.writeable, 'with no floor, the write probe fails');
  t.match(full.error, /ENOSPC/, 'and says ENOSPC');

  await disks.free(dir);
  t.ok((await probeStorage(dir, 0)).writeable, 'writeable again once freed');
  await disks.unmountAll();
  t.notOk(mountedAt(dir), 'unmounted');
});

t.test('the disk-full scenario mounts size-limited storage and fills the primary', async (t) => {
  const base = { seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy' as const, concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 };
  if (missing !== undefined) {
    t.throws(() => buildScenarioConfig(base, 'storage-disk-full'), { code: 'JEPSEN_NOT_RUNNABLE' }, 'not runnable without root');
    return;
  }
  const config = buildScenarioConfig(base, 'storage-disk-full');
  t.equal(config.storageDiskBytes, 64 * MIB);
  t.same(config.schedule.map((e) => [e.op, e.fault]), [['start', { kind: 'fill-disk', role: 'primary-storage' }], ['stop', { kind: 'fill-disk', role: 'primary-storage' }]]);
});

t.test('writes must move off the faulted storage after the grace', async (t) => {
  const config = buildConfig({ seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy', concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 }, 'register', 'none');
  const history: Op[] = [{ index: 0, process: 'nemesis', type: 'info', f: 'start', value: 'fill-disk primary-storage [gitaly-1]', time: 1_000 }];
  const judge = (writers: StorageWrite[]): boolean =>
    checkExpectation({ kind: 'writes-moved-off-faulted', graceIntervals: 4 }, { config, history, windows: [{ start: 1_000, end: 9_000 }], probes: {}, writers, operations: [] }).valid;
  const before: StorageWrite = { repository: 'a', generation: 1, storage: 'gitaly-1', time: 500 };
  t.ok(judge([before, { repository: 'a', generation: 2, storage: 'gitaly-2', time: 3_000 }]), 'the key wrote on gitaly-2 after the grace');
  t.notOk(judge([before, { repository: 'a', generation: 2, storage: 'gitaly-2', time: 3_000 }, { repository: 'a', generation: 2, storage: 'gitaly-1', time: 4_000 }]), 'an ok write on the full node after the grace');
  t.notOk(judge([before]), 'no key moved');
  t.ok(judge([before, { repository: 'a', generation: 1, storage: 'gitaly-1', time: 1_500 }, { repository: 'a', generation: 2, storage: 'gitaly-3', time: 2_500 }]), 'writes on the full node inside the grace are allowed, and a move inside it counts');
});

t.test('writes resume within N intervals, or a key with no current secondary stays fail-closed', async (t) => {
  const config = buildConfig({ seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy', concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 }, 'register', 'none');
  let index = 0;
  const op = (key: string, invoke: number, complete: number, type: 'ok' | 'info', error?: string): Op[] => [
    { index: index++, process: index, type: 'invoke', f: 'write', key, value: 1, time: invoke },
    { index: index++, process: index - 1, type, f: 'write', key, value: 1, time: complete, ...(error === undefined ? {} : { error }) },
  ];
  const judge = (failClosedAllowed: boolean, ops: Op[]): boolean => {
    const sorted = [...ops].sort((a, b) => a.time - b.time).map((o, i) => ({ ...o, index: i }));
    return checkExpectation({ kind: 'writes-resume-within', intervals: 4, failClosedAllowed }, { config, history: sorted, windows: [{ start: 1_000, end: 9_000 }], probes: {}, operations: clientOperations(pairOperations(sorted)) }).valid;
  };
  const closed = [...op('a', 1_100, 1_200, 'info', 'INTERNAL: ENOSPC'), ...op('a', 2_500, 2_600, 'info', 'UNAVAILABLE: no replica on the latest generation'), ...op('a', 3_000, 3_100, 'info', 'UNAVAILABLE: no replica')];
  t.notOk(judge(false, closed), 'strictly, a key that never resumed is late');
  t.ok(judge(true, closed), 'allowed: it failed closed with UNAVAILABLE after the limit');
  const broken = [...op('b', 1_100, 1_200, 'info', 'INTERNAL: ENOSPC'), ...op('b', 2_500, 2_600, 'info', 'INTERNAL: ENOSPC')];
  t.notOk(judge(true, broken), 'still failing on the full disk after the limit is late');
  const racing = [...op('d', 1_100, 1_200, 'ok'), ...op('d', 2_500, 2_600, 'ok')].map((o) => (o.type === 'ok' && o.time === 1_200 ? { ...o, type: 'fail' as const, error: 'FAILED_PRECONDITION: is at abc' } : o));
  t.ok(judge(false, racing), "a definite fail (racing writers' precondition) is not the fault's");
  const resumed = [...op('c', 1_100, 1_200, 'info', 'INTERNAL: ENOSPC'), ...op('c', 1_500, 1_700, 'ok'), ...op('c', 2_500, 2_600, 'ok')];
  t.ok(judge(false, resumed), 'an ok write within the limit');
});
