// The prober against real bin/gitaly processes on loopback: SIGKILL, SIGSTOP,
// restart, SIGCONT and an unwritable storage, each seen within the bounds
// the monitor interval, the follow-up probes and the flip count allow. Needs `npm run build`.
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import t from 'tap';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/index.js';
import { healthProberFromConfig, type HealthProber, type NodeHealth } from '../../src/health/index.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { startGitaly, type GitalyProcess } from './fixtures/gitaly-process.js';

const INTERVAL_MS = 250;
const N = 3;
/** The router's follow-up probes after a failure (prober-from-config: a quarter interval). */
const CONFIRM_MS = INTERVAL_MS / 4;
/** Scheduling and process start-up on a shared 2-core machine; generous, since a flake teaches nothing. */
const SLACK_MS = 1_500;
const WAIT_LIMIT_MS = 20_000;

if (!existsSync(path.join(findProjectRoot(), 'dist', 'src', 'gitaly', 'index.js'))) {
  t.plan(0, 'dist/ is missing: run `npm run build` first (npm test does)');
} else {
  t.test('health of real storage nodes', async (t) => {
    const nodes = await Promise.all(['g1', 'g2', 'g3'].map((storage) => startGitaly(storage)));
    t.teardown(() => Promise.all(nodes.map((node) => node.close())).then(() => undefined));
    const watcher = new Watcher();
    const prober = healthProberFromConfig(routerConfig(nodes), { onChange: () => watcher.changed(), logger: pino({ level: 'silent' }) });
    watcher.prober = prober;
    t.teardown(() => prober.stop());
    const [g1, g2, g3] = nodes as [GitalyProcess, GitalyProcess, GitalyProcess];

    await t.test('every node becomes healthy after N successful probes', async (t) => {
      const startMs = performance.now();
      prober.start();
      for (const node of nodes) await watcher.until(node, true);
      t.ok(performance.now() - startMs >= (N - 1) * INTERVAL_MS - 5, 'not before N rounds');
    });

    await t.test('SIGKILL: unhealthy after N failed probes, the others untouched', async (t) => {
      g1.signal('SIGKILL');
      await g1.exited();
      const killedMs = performance.now();
      const health = await watcher.until(g1, false);
      const elapsedMs = performance.now() - killedMs;
      t.comment(`SIGKILL seen after ${elapsedMs.toFixed(0)} ms`);
      t.ok(elapsedMs >= (N - 1) * CONFIRM_MS - 5, `not before ${N} probes: one, then ${N - 1} follow-ups (${elapsedMs.toFixed(0)} ms)`);
      t.ok(elapsedMs <= INTERVAL_MS + (N - 1) * CONFIRM_MS + SLACK_MS, `within an interval and ${N - 1} follow-ups (${elapsedMs.toFixed(0)} ms)`);
      t.equal(health.lastProbe?.reason, 'unavailable');
      t.ok(prober.isHealthy(ref(g2)) && prober.isHealthy(ref(g3)));
    });

    await t.test('restart on the same address: healthy again after N successes', async (t) => {
      const restarted = await g1.restart();
      nodes[0] = restarted;
      const upMs = performance.now();
      await watcher.until(restarted, true);
      const elapsedMs = performance.now() - upMs;
      t.comment(`restart seen after ${elapsedMs.toFixed(0)} ms`);
      t.ok(elapsedMs >= (N - 1) * INTERVAL_MS - 5, 'not before N probes');
      t.ok(elapsedMs <= (N + 1) * INTERVAL_MS + SLACK_MS, 'reconnect backoff is capped at the interval');
    });

    await t.test('SIGSTOP: probe timeouts mark it unhealthy; SIGCONT brings it back', async (t) => {
      g2.signal('SIGSTOP');
      const stoppedMs = performance.now();
      const health = await watcher.until(g2, false);
      const elapsedMs = performance.now() - stoppedMs;
      t.comment(`SIGSTOP seen after ${elapsedMs.toFixed(0)} ms`);
      t.equal(health.lastProbe?.reason, 'timeout');
      t.ok(elapsedMs <= (N + 1) * INTERVAL_MS + SLACK_MS, `within N intervals and a timeout (${elapsedMs.toFixed(0)} ms)`);
      g2.signal('SIGCONT');
      const contMs = performance.now();
      await watcher.until(g2, true);
      t.comment(`SIGCONT seen after ${(performance.now() - contMs).toFixed(0)} ms`);
      t.ok(prober.isHealthy(ref(g1)) && prober.isHealthy(ref(g3)));
    });

    await t.test('an unwritable storage answers NOT_SERVING and is marked unhealthy until fixed', async (t) => {
      const restore = await breakStorage(g3.storagePath);
      const health = await watcher.until(g3, false);
      t.equal(health.lastProbe?.reason, 'not-serving');
      await restore();
      await watcher.until(g3, true);
      t.ok(nodes.every((node) => prober.isHealthy(ref(node))));
    });
  });
}

function ref(node: GitalyProcess): { virtualStorage: string; storage: string } {
  return { virtualStorage: 'default', storage: node.storage };
}

function routerConfig(nodes: readonly GitalyProcess[]): ReturnType<typeof parseConfig> {
  return parseConfig({
    listen_addr: '127.0.0.1:0',
    virtual_storage: [{ name: 'default', node: nodes.map((n) => ({ storage: n.storage, address: n.address, token: 'internal' })) }],
    failover: { monitor_interval: `${INTERVAL_MS}ms`, consecutive_probes: N },
    raft: { node_id: 1, data_dir: '/tmp/unused', peers: [{ id: 1, address: '127.0.0.1:1' }] },
  });
}

/**
 * The storage node's health check writes a probe file under +gitaly/tmp.
 * Unwritable: as root, permissions do not stop a write, so a plain file takes
 * the directory's place; otherwise the directory is made read-only.
 */
async function breakStorage(storagePath: string): Promise<() => Promise<void>> {
  const scratch = path.join(storagePath, '+gitaly', 'tmp');
  if (process.getuid?.() !== 0) {
    await mkdir(scratch, { recursive: true });
    await chmod(scratch, 0o555);
    return () => chmod(scratch, 0o755);
  }
  await rm(scratch, { recursive: true, force: true });
  await writeFile(scratch, 'not a directory');
  return () => rm(scratch, { force: true });
}

/** Resolves waits on the prober's verdicts as onChange reports them. */
class Watcher {
  prober: HealthProber | undefined;
  private waiters: Array<() => void> = [];

  changed(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async until(node: GitalyProcess, healthy: boolean): Promise<NodeHealth> {
    const deadline = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const health = this.prober?.view().nodes.find((n) => n.storage === node.storage);
      if (health?.healthy === healthy) return health;
      const leftMs = deadline - performance.now();
      if (leftMs <= 0) throw new Error(`${node.storage} not ${healthy ? 'healthy' : 'unhealthy'} within ${WAIT_LIMIT_MS} ms: ${JSON.stringify(health)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(leftMs, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
