// The transaction metadata in Gitaly's format, and what the node hashes.
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import {
  encodePraefectServerMetadata,
  encodeTransactionMetadata,
  InvalidArgumentError,
  isForceDeletionsOnly,
  parseTransactionContext,
  PRAEFECT_SERVER_METADATA_KEY,
  refUpdatesHash,
  TRANSACTION_METADATA_KEY,
  voteTarget,
  withTransaction,
} from '../../src/gitaly/index.js';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64');

t.test('the encoding is base64 of JSON with upstream key names', async (t) => {
  t.same(JSON.parse(Buffer.from(encodeTransactionMetadata({ id: 42, node: 'gitaly-1', primary: true }), 'base64').toString()), { id: 42, node: 'gitaly-1', primary: true });
  t.same(JSON.parse(Buffer.from(encodePraefectServerMetadata({ listenAddr: 'tcp://127.0.0.1:2305', token: 's' }), 'base64').toString()), {
    listen_addr: 'tcp://127.0.0.1:2305',
    tls_listen_addr: '',
    socket_path: '',
    token: 's',
  });
});

t.test('parsing what an upstream Praefect sends', async (t) => {
  const metadata = new grpc.Metadata();
  metadata.set(TRANSACTION_METADATA_KEY, b64({ backchannel_id: 3, id: 9007199254740991, node: 'gitaly-2', primary: false }));
  metadata.set(PRAEFECT_SERVER_METADATA_KEY, b64({ listen_addr: 'tcp://10.0.0.1:2305', tls_listen_addr: 'tls://10.0.0.1:3305', socket_path: '', token: 'secret' }));
  const context = parseTransactionContext(metadata);
  t.same(context?.transaction, { id: 9007199254740991, node: 'gitaly-2', primary: false });
  t.equal(context?.praefect.token, 'secret');
  t.equal(voteTarget(context!.praefect), '10.0.0.1:2305');
  t.equal(voteTarget({ listenAddr: '', tlsListenAddr: '', socketPath: 'unix:///run/praefect.sock', token: '' }), 'unix:/run/praefect.sock');
  t.throws(() => voteTarget({ listenAddr: '', tlsListenAddr: 'tls://h:1', socketPath: '', token: '' }), InvalidArgumentError);
});

t.test('no metadata: no transaction; broken metadata: INVALID_ARGUMENT', async (t) => {
  t.equal(parseTransactionContext(new grpc.Metadata()), undefined);
  const bad = (tx: string, server?: string): grpc.Metadata => {
    const m = new grpc.Metadata();
    m.set(TRANSACTION_METADATA_KEY, tx);
    if (server !== undefined) m.set(PRAEFECT_SERVER_METADATA_KEY, server);
    return m;
  };
  const server = b64({ listen_addr: 'tcp://h:1', token: '' });
  t.throws(() => parseTransactionContext(bad('%%%')), InvalidArgumentError);
  t.throws(() => parseTransactionContext(bad(b64({ id: 1, node: 'n' }))), /gitaly-praefect-server is missing/);
  t.throws(() => parseTransactionContext(bad(b64({ id: 1.5, node: 'n' }), server)), /id must be an integer/);
  t.throws(() => parseTransactionContext(bad(b64({ id: 1 }), server)), /node is missing/);
  t.throws(() => parseTransactionContext(bad(b64({ id: 1, node: 'n' }), b64({ token: 'x' }))), /no address/);
  t.throws(() => parseTransactionContext(bad(b64([1]), server)), /not a JSON object/);
  const round = parseTransactionContext(withTransaction(new grpc.Metadata(), { id: 5, node: 'n', primary: true }, { listenAddr: 'tcp://h:1', token: 't' }));
  t.same(round, { transaction: { id: 5, node: 'n', primary: true }, praefect: { listenAddr: 'tcp://h:1', tlsListenAddr: '', socketPath: '', token: 't' } });
});

t.test('the vote is the SHA-1 of the hook input; packed-refs clean-ups are recognized', async (t) => {
  const zero = '0'.repeat(40);
  const oid = 'a'.repeat(40);
  const changes = Buffer.from(`${zero} ${oid} refs/heads/main\n`);
  t.same(refUpdatesHash(changes), createHash('sha1').update(changes).digest());
  t.equal(refUpdatesHash(changes).length, 20);
  t.notOk(isForceDeletionsOnly(changes));
  t.ok(isForceDeletionsOnly(Buffer.from(`${zero} ${zero} refs/heads/a\n${zero} ${zero} refs/heads/b\n`)));
  t.notOk(isForceDeletionsOnly(Buffer.from(`${oid} ${zero} refs/heads/a\n`)), 'a deletion with its old value is voted');
  t.notOk(isForceDeletionsOnly(Buffer.alloc(0)));
});
