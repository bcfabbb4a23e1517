import client from 'prom-client';
import type { RaftDriver } from './driver.js';

/**
 * Raft's own metrics (DESIGN §13): term, leader, commit and applied index,
 * proposals and leader changes. Values are read from the driver when the
 * registry is scraped, so nothing is paid on the commit path.
 */
export function registerRaftMetrics(driver: RaftDriver, registry: client.Registry): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number) => {
    let reported = 0;
    return new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        // prom-client counters only go up: add what happened since the last scrape.
        const now = read();
        if (now > reported) this.inc(now - reported);
        reported = Math.max(reported, now);
      },
    });
  };
  gauge('praefect_raft_term', 'Current Raft term of this router.', () => driver.status().term);
  gauge('praefect_raft_leader_id', 'Raft node id of the leader this router knows (0: none).', () => driver.status().lead);
  gauge('praefect_raft_is_leader', '1 when this router is the Raft leader.', () => (driver.status().role === 'leader' ? 1 : 0));
  gauge('praefect_raft_commit_index', 'Highest log index known committed.', () => driver.status().commit);
  gauge('praefect_raft_applied_index', 'Highest log index applied to the state machine.', () => driver.status().applied);
  gauge('praefect_raft_last_index', 'Last index in the local log.', () => driver.status().lastIndex);
  counter('praefect_raft_proposals_total', 'Proposals settled by this router (applied or failed).', () => driver.stats().proposals);
  counter('praefect_raft_proposals_failed_total', 'Proposals that failed or timed out.', () => driver.stats().proposalsFailed);
  counter('praefect_raft_read_index_rounds_total', 'ReadIndex rounds started (each serves many reads).', () => driver.stats().readRounds);
  counter('praefect_raft_leader_changes_total', 'Times the known leader changed.', () => driver.stats().leaderChanges);
  counter('praefect_raft_snapshots_total', 'Snapshots taken for log compaction.', () => driver.stats().snapshotsTaken);
}
