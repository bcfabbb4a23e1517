// The human form of `bin/cluster status` for states the live tests cannot
// hold still: transactions in flight and stale write intents.
import t from 'tap';
import { renderStatus, type StatusReport } from '../../src/cli/cluster-status.js';

const member = (id: number, tx: number): StatusReport['raft']['members'][number] => ({
  address: `127.0.0.1:230${id}`,
  router: `router-${id}`,
  reachable: true,
  error: '',
  id,
  role: id === 1 ? 'leader' : 'follower',
  term: 2,
  leader: 1,
  commit: 40,
  applied: 40,
  last_index: 40,
  lag: 0,
  last_contact_ms: 9_000,
  transactions_in_flight: tx,
});

const report: StatusReport = {
  taken_at_ms: 10_000,
  source: { address: '127.0.0.1:2301', router: 'router-1' },
  fresh: true,
  fresh_error: '',
  applied_index: 40,
  cluster_time_ms: 10_000,
  applied_lag: 0,
  raft: { leader: 1, leader_router: 'router-1', term: 2, voters: [1, 2, 3], learners: [], members: [member(1, 2), member(2, 0), member(3, 1)] },
  storages: [],
  routers: [],
  repositories: { total: 5, read_only: 0, unavailable: 0, with_outdated_replicas: 1 },
  write_intents: {
    total: 4,
    stale_total: 1,
    stale_age_ms: 10_000,
    stale: [{ repository_id: 3, virtual_storage: 'default', relative_path: 'group/a.git', router: 'router-3', storage: 'gitaly-2', generation: 7, age_ms: 42_000, router_active: false }],
  },
  replication_queue: { database_up: true, database_error: '', depth: [], dead: [] },
};

t.test('transactions per router, intents in flight, and each stale intent with its router and age', async (t) => {
  const text = renderStatus(report);
  t.match(text, /LAG\s+TX\s+LAST CONTACT/);
  t.match(text, /router-1\s+127\.0\.0\.1:2301\s+leader\s+2\s+40\s+40\s+0\s+2\s/, 'router-1 has two transactions open');
  t.match(text, /Writes in flight: 4 write intents, 3 reference transactions \(TX per router above\); 1 intents older than 10 s \(the Raft leader's reconciler settles them\):/);
  t.match(text, /default\/group\/a\.git\s+router-3 \(inactive\)\s+gitaly-2\s+7\s+42 s/);
});
