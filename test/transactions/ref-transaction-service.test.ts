// gitaly.RefTransaction on the wire: a client built from an independent
// descriptor of Gitaly's transaction.proto (field numbers and enum values
// as upstream) votes with a TransactionManager served over loopback.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import t from 'tap';
import { v2TokenInterceptor } from '../../src/auth/index.js';
import { addRefTransactionService, primaryQuorum, TransactionManager } from '../../src/transactions/index.js';

const TOKEN = 'router-secret';
const repository = { type: 'Repository', id: 1 };
// Written from upstream's proto/transaction.proto, not from ours.
const descriptor = {
  nested: {
    gitaly: {
      nested: {
        Repository: { fields: { storage_name: { type: 'string', id: 2 }, relative_path: { type: 'string', id: 3 } } },
        VoteTransactionRequest: {
          fields: {
            repository,
            transaction_id: { type: 'uint64', id: 2 },
            node: { type: 'string', id: 3 },
            reference_updates_hash: { type: 'bytes', id: 4 },
            phase: { type: 'Phase', id: 5 },
          },
          nested: { Phase: { values: { UNKNOWN_PHASE: 0, PREPARED_PHASE: 1, COMMITTED_PHASE: 2, SYNCHRONIZED_PHASE: 3, PREPARING_PHASE: 4 } } },
        },
        VoteTransactionResponse: {
          fields: { state: { type: 'TransactionState', id: 1 } },
          nested: { TransactionState: { values: { COMMIT: 0, ABORT: 1, STOP: 2 } } },
        },
        StopTransactionRequest: { fields: { repository, transaction_id: { type: 'uint64', id: 2 } } },
        StopTransactionResponse: { fields: {} },
        RefTransaction: {
          methods: {
            VoteTransaction: { requestType: 'VoteTransactionRequest', responseType: 'VoteTransactionResponse' },
            StopTransaction: { requestType: 'StopTransactionRequest', responseType: 'StopTransactionResponse' },
          },
        },
      },
    },
  },
};

const definition = protoLoader.fromJSON(descriptor as unknown as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true, enums: String, longs: Number, defaults: true });
const gitaly = (grpc.loadPackageDefinition(definition) as unknown as { gitaly: { RefTransaction: grpc.ServiceClientConstructor } }).gitaly;

const manager = new TransactionManager({ voteTimeoutMs: 30_000 });
const server = new grpc.Server();
addRefTransactionService(server, manager, { token: TOKEN });
const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
const client = new gitaly.RefTransaction(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: [v2TokenInterceptor(TOKEN)] });
const anonymous = new gitaly.RefTransaction(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
t.teardown(() => {
  client.close();
  anonymous.close();
  server.forceShutdown();
});

const hash = (s: string): Buffer => createHash('sha1').update(s).digest();
type Unary = (request: unknown, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { state: string }) => void) => grpc.ClientUnaryCall;

function call(which: grpc.Client, method: 'VoteTransaction' | 'StopTransaction', request: unknown, onCall?: (c: grpc.ClientUnaryCall) => void): Promise<string | number> {
  return new Promise((resolve) => {
    const fn = (which as unknown as Record<string, Unary>)[method] as Unary;
    const c = fn.call(which, request, { deadline: Date.now() + 10_000 }, (error, response) => resolve(error !== null ? error.code : (response?.state ?? 'ok')));
    onCall?.(c);
  });
}

const vote = (id: number, node: string, text: string, phase = 'PREPARED_PHASE') =>
  call(client, 'VoteTransaction', { repository: { storage_name: node, relative_path: 'r.git' }, transaction_id: id, node, reference_updates_hash: hash(text), phase });

t.test('votes are answered COMMIT and ABORT as the quorum decides', async (t) => {
  const id = manager.register(primaryQuorum('gitaly-1', ['gitaly-2', 'gitaly-3']));
  t.same(await Promise.all([vote(id, 'gitaly-1', 'x'), vote(id, 'gitaly-2', 'x')]), ['COMMIT', 'COMMIT']);
  t.equal(await vote(id, 'gitaly-3', 'y'), 'ABORT');
  t.equal(await vote(id, 'gitaly-3', 'x'), 'ABORT', 'the node that disagreed stays out');
  manager.cancel(id);
});

t.test('unknown transactions are NOT_FOUND, cancelled ones CANCELLED', async (t) => {
  t.equal(await vote(987654321, 'gitaly-1', 'x'), grpc.status.NOT_FOUND);
  t.equal(await call(client, 'StopTransaction', { transaction_id: 987654321 }), grpc.status.NOT_FOUND);
  const id = manager.register(primaryQuorum('gitaly-1', ['gitaly-2']));
  const waiting = vote(id, 'gitaly-2', 'x');
  // The secondary alone cannot decide; cancelling answers it.
  await new Promise((resolve) => setTimeout(resolve, 50));
  manager.cancel(id);
  t.equal(await waiting, grpc.status.CANCELLED);
  t.equal(await vote(id, 'gitaly-1', 'x'), grpc.status.CANCELLED);
  t.equal(await call(client, 'StopTransaction', { transaction_id: id }), grpc.status.CANCELLED);
});

t.test('StopTransaction answers waiting and later votes STOP', async (t) => {
  const id = manager.register(primaryQuorum('gitaly-1', ['gitaly-2', 'gitaly-3']));
  const waiting = vote(id, 'gitaly-1', 'x');
  t.equal(await call(client, 'StopTransaction', { transaction_id: id }), 'ok');
  t.equal(await call(client, 'StopTransaction', { transaction_id: id }), 'ok', 'stopping twice is fine');
  t.equal(await waiting, 'STOP');
  t.equal(await vote(id, 'gitaly-2', 'x'), 'STOP');
  manager.cancel(id);
});

t.test('bad votes are INVALID_ARGUMENT', async (t) => {
  const id = manager.register(primaryQuorum('gitaly-1', []));
  t.equal(await call(client, 'VoteTransaction', { transaction_id: id, node: 'gitaly-1', reference_updates_hash: Buffer.alloc(3) }), grpc.status.INVALID_ARGUMENT);
  t.equal(await vote(id, 'stranger', 'x'), grpc.status.INVALID_ARGUMENT);
  t.equal(await vote(id, 'gitaly-1', 'x', 'UNKNOWN_PHASE'), 'COMMIT', 'a vote without a phase is still counted, as upstream');
  manager.cancel(id);
});

t.test('a voter that gives up waiting is withdrawn from the transaction', async (t) => {
  const id = manager.register(primaryQuorum('gitaly-1', ['gitaly-2', 'gitaly-3']));
  let pending: grpc.ClientUnaryCall | undefined;
  const given = call(client, 'VoteTransaction', { transaction_id: id, node: 'gitaly-2', reference_updates_hash: hash('x') }, (c) => (pending = c));
  const deadline = Date.now() + 5000;
  while (manager.summary(id).voted.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  pending?.cancel();
  t.equal(await given, grpc.status.CANCELLED);
  while (manager.summary(id).voters['gitaly-2'] !== 'cancelled' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(manager.summary(id).voters['gitaly-2'], 'cancelled');
  t.same(await Promise.all([vote(id, 'gitaly-1', 'x'), vote(id, 'gitaly-3', 'x')]), ['COMMIT', 'COMMIT'], 'the others still reach quorum');
  manager.cancel(id);
});

t.test('votes need the router token', async (t) => {
  const id = manager.register(primaryQuorum('gitaly-1', []));
  t.equal(await call(anonymous, 'VoteTransaction', { transaction_id: id, node: 'gitaly-1', reference_updates_hash: hash('x') }), grpc.status.UNAUTHENTICATED);
  t.equal(manager.summary(id).voted.length, 0);
  manager.cancel(id);
});

t.test('RefTransactionAnswers: the same answers as bytes, for the router transports', async (t) => {
  const { gitalyProtocol } = await import('../../src/protocol/index.js');
  const { RefTransactionAnswers, errorStatus, VOTE_TRANSACTION_PATH, STOP_TRANSACTION_PATH } = await import('../../src/transactions/index.js');
  const root = gitalyProtocol().root;
  const answers = new RefTransactionAnswers(manager, root);
  t.ok(answers.handles(VOTE_TRANSACTION_PATH) && answers.handles(STOP_TRANSACTION_PATH));
  t.notOk(answers.handles('/gitaly.RefService/FindBranch'));
  const requestType = root.lookupType('gitaly.VoteTransactionRequest');
  const responseType = root.lookupType('gitaly.VoteTransactionResponse');
  const id = manager.register(primaryQuorum('gitaly-1', []));
  const bytes = requestType.encode(requestType.fromObject({ transaction_id: id, node: 'gitaly-1', reference_updates_hash: hash('x'), phase: 'PREPARED_PHASE' })).finish();
  const response = responseType.toObject(responseType.decode(await answers.answer(VOTE_TRANSACTION_PATH, bytes)), { enums: String, defaults: true });
  t.same(response, { state: 'COMMIT' });
  await answers.answer(STOP_TRANSACTION_PATH, root.lookupType('gitaly.StopTransactionRequest').encode({ transaction_id: id }).finish());
  t.equal(manager.summary(id).state, 'stopped');
  const malformed = await answers.answer(VOTE_TRANSACTION_PATH, Buffer.from([0xff, 0xff, 0xff])).catch((e: unknown) => errorStatus(e).code);
  t.equal(malformed, grpc.status.INVALID_ARGUMENT);
  const afterStop = responseType.toObject(responseType.decode(await answers.answer(VOTE_TRANSACTION_PATH, bytes)), { enums: String, defaults: true });
  t.same(afterStop, { state: 'STOP' }, 'a vote after the stop is answered STOP');
  manager.cancel(id);
  const gone = await answers.answer(VOTE_TRANSACTION_PATH, bytes).catch((e: unknown) => errorStatus(e).code);
  t.equal(gone, grpc.status.CANCELLED);
});
