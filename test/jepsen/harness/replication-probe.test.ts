// The storage-to-storage scenario's measurements: the routers' replication
// outcome counters parsed from /metrics, their change over the fault, and
// the expectations judged on them; and which backend the scenario needs.
import t from 'tap';
import { buildConfig, buildScenarioConfig, checkExpectation, outcomeDelta, parseReplicationOutcomes, sumCounts, type ReplicationProbe, type ScenarioProbes } from '../../../jepsen/harness/index.js';
import { netnsMissing } from '../../../jepsen/net/index.js';

const PAGE = `# HELP gitaly_praefect_replication_job_outcomes_total Replication job attempts by outcome (completed, failed, dead)
# TYPE gitaly_praefect_replication_job_outcomes_total counter
gitaly_praefect_replication_job_outcomes_total{virtual_storage="default",target_storage="gitaly-1",type="update",outcome="completed"} 4
gitaly_praefect_replication_job_outcomes_total{virtual_storage="default",target_storage="gitaly-1",type="update",outcome="failed"} 2
gitaly_praefect_replication_job_outcomes_total{virtual_storage="default",target_storage="gitaly-2",type="delete_replica",outcome="completed"} 1
gitaly_praefect_replication_job_outcomes_total{virtual_storage="default",target_storage="gitaly-2",type="update",outcome="completed"} 3
gitaly_praefect_replication_jobs{virtual_storage="default",target_storage="gitaly-1",type="update"} 1
`;

t.test('outcome counters are summed by target and outcome, over types and routers', async (t) => {
  const page = parseReplicationOutcomes(PAGE);
  t.same(page, { 'gitaly-1|completed': 4, 'gitaly-1|failed': 2, 'gitaly-2|completed': 4 }, 'other metrics are ignored; types are summed');
  t.same(sumCounts([page, { 'gitaly-1|failed': 1, 'gitaly-3|dead': 1 }]), { 'gitaly-1|completed': 4, 'gitaly-1|failed': 3, 'gitaly-2|completed': 4, 'gitaly-3|dead': 1 });
  t.same(outcomeDelta({ 'gitaly-1|failed': 1 }, { 'gitaly-1|failed': 3, 'gitaly-1|completed': 2, 'gitaly-2|dead': 5 }, ['gitaly-1']), { completed: 2, failed: 2, dead: 0 });
});

const config = buildConfig({ seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy', concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 }, 'register', 'none');
const judge = (kind: 'replication-toward-faulted-fails' | 'catch-up', probes: ScenarioProbes): boolean => {
  const expectation = kind === 'catch-up' ? ({ kind: 'replicas-catch-up-after-heal', withinMs: 10_000 } as const) : ({ kind } as const);
  return checkExpectation(expectation, { config, history: [], windows: [{ start: 0, end: 1 }], probes, operations: [] }).valid;
};
const probe = (after: Record<string, number>): ReplicationProbe => ({ faulted: ['gitaly-1'], before: { 'gitaly-1|completed': 4, 'gitaly-2|completed': 3 }, after, unreachable: [] });

t.test('replication toward the cut node must fail, never complete, during the fault', async (t) => {
  t.notOk(judge('replication-toward-faulted-fails', {}), 'not probed is not a pass');
  t.ok(judge('replication-toward-faulted-fails', { replication: probe({ 'gitaly-1|completed': 4, 'gitaly-1|failed': 1, 'gitaly-2|completed': 5 }) }), 'a failed attempt toward the cut node');
  t.ok(judge('replication-toward-faulted-fails', { replication: probe({ 'gitaly-1|completed': 4, 'gitaly-2|completed': 3, 'gitaly-2|dead': 1 }) }), 'a job from the cut node that died');
  t.notOk(judge('replication-toward-faulted-fails', { replication: probe({ 'gitaly-1|completed': 5, 'gitaly-1|failed': 1 }) }), 'an attempt toward the cut node completed: the cut did not hold');
  t.notOk(judge('replication-toward-faulted-fails', { replication: probe({ 'gitaly-1|completed': 4, 'gitaly-2|completed': 9 }) }), 'nothing failed');
});

t.test('replicas catch up after the heal within the bound', async (t) => {
  t.notOk(judge('catch-up', {}), 'not probed');
  t.notOk(judge('catch-up', { catchUp: { ms: null, outdatedAtHeal: 3, stillOutdated: ['k'] } }), 'the probe gave up');
  t.notOk(judge('catch-up', { catchUp: { ms: 12_000, outdatedAtHeal: 3, stillOutdated: [] } }), 'too late');
  t.ok(judge('catch-up', { catchUp: { ms: 3_000, outdatedAtHeal: 3, stillOutdated: [] } }));
});

const base = { seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 };

t.test('storage-to-storage-partition needs netns; under the proxy backend it is not runnable, with the reason', async (t) => {
  t.throws(() => buildScenarioConfig({ ...base, net: 'proxy' }, 'storage-to-storage-partition'), { code: 'JEPSEN_NOT_RUNNABLE' });
  t.throws(() => buildScenarioConfig({ ...base, net: 'proxy' }, 'storage-to-storage-partition'), /needs --net netns.*no storage->storage link to cut/);
});

t.test('under netns it runs, with the time limit raised past the source-call deadline', { skip: netnsMissing().length > 0 ? netnsMissing().join('; ') : false }, async (t) => {
  const config = buildScenarioConfig({ ...base, net: 'netns' }, 'storage-to-storage-partition');
  t.equal(config.timeLimitMs, 120_000);
  t.ok(config.faultMs > 60_000, `fault phase ${config.faultMs} ms outlasts the 60 s deadline`);
  t.same(config.schedule.map((e) => [e.op, e.fault.kind]), [['start', 'cut-storage-links'], ['stop', 'cut-storage-links']]);
  t.equal(buildScenarioConfig({ ...base, net: 'netns', timeLimitMs: 200_000 }, 'storage-to-storage-partition').timeLimitMs, 200_000, 'a longer limit is kept');
});
