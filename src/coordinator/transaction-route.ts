// Transactional mutators (DESIGN §10): the call goes to the primary and, at
// the same time, to every healthy secondary on the primary's generation. The
// replicas vote their reference updates through this router; after the call
// the primary and the secondaries that committed with it move to the next
// generation in one compare-and-set, and every other replica gets a
// replication job labelled with why.
import * as grpc from '@grpc/grpc-js';
import { RoutingError, type Route } from '../proxy/index.js';
import {
  encodePraefectServerMetadata,
  encodeTransactionMetadata,
  PRAEFECT_SERVER_METADATA_KEY,
  primaryQuorum,
  TRANSACTION_METADATA_KEY,
  TRANSACTION_TIME_METADATA_KEY,
  TransactionLimitError,
  type TransactionSummary,
} from '../transactions/index.js';
import type { RouteContext } from './route-context.js';
import type { RouterTransactions, TxReplicationReason } from './router-deps.js';
import { bumpAfterWrite, describeRepo, failedWrite, type WriteTarget } from './write-finish.js';
import { writeLogFields, writeMarker } from './write-marker.js';

/** A transaction registered for one write, before its route exists. */
export interface RegisteredTransaction {
  readonly id: number;
  readonly secondaries: readonly string[];
}

/**
 * The secondaries that take the write with the primary: assigned, healthy by
 * quorum, reachable from here, and on the primary's generation (an outdated
 * replica would vote on a different starting point).
 */
export function votingSecondaries(ctx: RouteContext, target: WriteTarget): string[] {
  const { repository, primary, generation } = target;
  const assigned = repository.assigned.length > 0 ? repository.assigned : ctx.options.nodes.storages(repository.virtualStorage);
  return assigned.filter(
    (storage) =>
      storage !== primary &&
      repository.generations[storage] === generation &&
      ctx.view.isHealthy(repository.virtualStorage, storage) &&
      ctx.reachable(repository.virtualStorage, storage),
  );
}

/** Registers the vote of a write; undefined when there is nobody to vote with (the write goes to the primary alone). */
export function registerTransaction(tx: RouterTransactions, target: WriteTarget, secondaries: readonly string[]): RegisteredTransaction | undefined {
  if (secondaries.length === 0) return undefined;
  try {
    return { id: tx.manager.register(primaryQuorum(target.primary, secondaries)), secondaries };
  } catch (error) {
    if (error instanceof TransactionLimitError) throw new RoutingError('ROUTE_OVERLOADED', `too many reference transactions in flight: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Ends a transaction whose write was never sent (its intent could not be recorded). */
export function abandonTransaction(tx: RouterTransactions, registered: RegisteredTransaction | undefined): void {
  if (registered !== undefined) tx.manager.cancel(registered.id);
}

export function transactionalRoute(ctx: RouteContext, tx: RouterTransactions, target: WriteTarget, intentId: string | null, registered: RegisteredTransaction): Route {
  const { repository, primary } = target;
  const server = encodePraefectServerMetadata(tx.voteTarget);
  // One clock reading for every replica: a commit without a client-given date gets the same one everywhere.
  const timeSec = String(Math.floor(ctx.options.access.view.clusterTimeMs() / 1000));
  const metadataFor = (node: string, isPrimary: boolean): Record<string, string> => ({
    ...writeMarker(ctx, target, intentId, isPrimary),
    [TRANSACTION_METADATA_KEY]: encodeTransactionMetadata({ id: registered.id, node, primary: isPrimary }),
    [PRAEFECT_SERVER_METADATA_KEY]: server,
    [TRANSACTION_TIME_METADATA_KEY]: timeSec,
  });
  return ctx.routeTo(repository, primary, {
    metadata: metadataFor(primary, true),
    ...writeLogFields(intentId),
    fanOut: {
      primary,
      secondaries: registered.secondaries.map((storage) => ({ name: storage, ...ctx.routeTo(repository, storage, { metadata: metadataFor(storage, false) }) })),
      // A node whose call failed is out of the vote at once, so the others are not left waiting for it.
      onNodeEnd: (node, status) => {
        if (status.code !== grpc.status.OK) withdraw(tx, registered.id, node);
      },
      settleMs: tx.settleMs,
      maxBufferedBytes: tx.maxBufferedBytes,
    },
    onFinish: (status, statuses) => finishTransaction(ctx, tx, { target, intentId, registered }, status, statuses ?? new Map()),
  });
}

interface TransactionalWrite {
  target: WriteTarget;
  intentId: string | null;
  registered: RegisteredTransaction;
}

async function finishTransaction(
  ctx: RouteContext,
  tx: RouterTransactions,
  write: TransactionalWrite,
  status: grpc.StatusObject,
  statuses: ReadonlyMap<string, grpc.StatusObject>,
): Promise<void> {
  const summary = tx.manager.cancel(write.registered.id);
  const { repository, primary } = write.target;
  ctx.observe(repository, primary, 'write', status);
  for (const [storage, secondaryStatus] of statuses) ctx.observe(repository, storage, 'write', secondaryStatus);
  if (status.code !== grpc.status.OK) {
    // Nobody voted: no reference moved on any replica (every ref update of the call is voted), so the
    // replicas are as they were and stay on their generation; re-syncing them would only cost.
    if (summary.subtransactions === 0 && write.intentId !== null) return discardIntent(ctx, repository, write.intentId);
    for (const _ of write.registered.secondaries) tx.onReplication?.('primary-failed');
    return failedWrite(ctx, write.target, write.intentId, status);
  }
  const verdicts = secondaryVerdicts(summary, primary, write.registered.secondaries, statuses);
  const updated = [...verdicts].filter(([, verdict]) => verdict === 'updated').map(([storage]) => storage);
  const reasonOf = (storage: string): TxReplicationReason => {
    const verdict = verdicts.get(storage);
    return verdict === undefined || verdict === 'updated' ? 'outdated' : verdict;
  };
  const logger = ctx.options.logger;
  if (updated.length < write.registered.secondaries.length) {
    const errors = Object.fromEntries([...statuses].filter(([, s]) => s.code !== grpc.status.OK).map(([storage, s]) => [storage, `${grpc.status[s.code]}: ${s.details}`]));
    logger?.info({ repository: describeRepo(repository), transaction: write.registered.id, verdicts: Object.fromEntries(verdicts), errors }, 'transaction left secondaries behind');
  }
  await bumpAfterWrite(ctx, write.target, write.intentId, updated, (storage) => {
    const reason = reasonOf(storage);
    tx.onReplication?.(reason);
    return reason;
  });
}

/**
 * Upstream's rules: nothing was voted → every secondary is replicated
 * (no-votes); the primary did not commit → all of them
 * (primary-not-committed); otherwise a secondary moves with the primary when
 * its call succeeded and it committed every subtransaction.
 */
export function secondaryVerdicts(
  summary: TransactionSummary,
  primary: string,
  secondaries: readonly string[],
  statuses: ReadonlyMap<string, grpc.StatusObject>,
): Map<string, 'updated' | TxReplicationReason> {
  const verdicts = new Map<string, 'updated' | TxReplicationReason>();
  for (const storage of secondaries) {
    if (summary.subtransactions === 0) verdicts.set(storage, 'no-votes');
    else if (summary.voters[primary] !== 'committed') verdicts.set(storage, 'primary-not-committed');
    else if (statuses.get(storage)?.code !== grpc.status.OK) verdicts.set(storage, 'node-error-status');
    else verdicts.set(storage, summary.voters[storage] === 'committed' ? 'updated' : 'node-not-committed');
  }
  return verdicts;
}

function discardIntent(ctx: RouteContext, repository: WriteTarget['repository'], intentId: string): void {
  ctx.background('discarding the write intent of a write that changed nothing', () => ctx.options.access.propose({ type: 'discard-write-intent', repositoryId: repository.repositoryId, intentId }));
}

function withdraw(tx: RouterTransactions, id: number, node: string): void {
  try {
    tx.manager.cancelVoter(id, node);
  } catch {
    // The transaction has ended already: nothing waits for this node.
  }
}
