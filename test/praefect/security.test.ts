// The router's listeners: v2 tokens with upstream's codes, the transitioning
// mode, health without a token, TLS on tls_listen_addr, and no secret in the
// logs. One router in this process (a one-member Raft group, PostgreSQL down).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { AdminClient } from '../../src/admin/index.js';
import { v2TokenMetadata } from '../../src/auth/index.js';
import { parseConfig } from '../../src/config/index.js';
import { freePort } from '../../src/db/free-port.js';
import { PraefectServer } from '../../src/praefect/index.js';
import { requireService } from '../../src/protocol/index.js';

const TOKEN = 'client-secret-5d1e';
const NODE_TOKEN = 'node-secret-8a2b';
const DB_PASSWORD = 'db-password-77c3';
const RAFT_TOKEN = 'raft-secret-1f9a';

async function makeCertificate(dir: string): Promise<{ cert: string; key: string } | undefined> {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  return promisify(execFile)('openssl', args).then(() => ({ cert, key }), () => undefined);
}

async function startRouter(t: Test, dir: string, tls: { cert: string; key: string }, transitioning: boolean): Promise<{ server: PraefectServer; logs: () => string }> {
  const raftPort = await freePort('127.0.0.1');
  const config = parseConfig({
    listen_addr: '127.0.0.1:0',
    tls_listen_addr: '127.0.0.1:0',
    tls: { certificate_path: tls.cert, key_path: tls.key },
    auth: { token: TOKEN, transitioning },
    virtual_storage: [{ name: 'default', node: [{ storage: 'gitaly-1', address: 'tcp://127.0.0.1:1', token: NODE_TOKEN }] }],
    database: { host: '127.0.0.1', port: 1, password: DB_PASSWORD },
    raft: { node_id: 1, data_dir: path.join(dir, `raft-${raftPort}`), peers: [{ id: 1, address: `127.0.0.1:${raftPort}` }], token: RAFT_TOKEN },
  });
  let logs = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((logs += chunk.toString()), done()) });
  const server = await PraefectServer.start({ config, logger: pino({ level: 'debug' }, sink) });
  t.teardown(() => server.stop(1_000));
  return { server, logs: () => logs };
}

type Health = grpc.Client & { Check(request: object, metadata: grpc.Metadata, callback: (e: grpc.ServiceError | null, r: { status: string }) => void): void };

function healthCheck(address: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(requireService('grpc.health.v1.Health'), 'Health');
  const client = new Client(address, credentials) as unknown as Health;
  return new Promise((resolve, reject) => client.Check({}, new grpc.Metadata(), (e, r) => (client.close(), e ? reject(e) : resolve(r.status))));
}

function repositoryExists(address: string, metadata: grpc.Metadata, credentials = grpc.credentials.createInsecure()): Promise<grpc.status> {
  const Client = grpc.makeGenericClientConstructor(requireService('gitaly.RepositoryService'), 'RepositoryService');
  const client = new Client(address, credentials) as unknown as { RepositoryExists(r: object, m: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void): void; close(): void };
  return new Promise((resolve) =>
    client.RepositoryExists({ repository: { storage_name: 'default', relative_path: 'x.git' } }, metadata, (e) => (client.close(), resolve(e === null ? grpc.status.OK : e.code))),
  );
}

const now = (): number => Math.floor(Date.now() / 1000);

t.test('router security', async (t) => {
  const dir = t.testdir();
  const tls = await makeCertificate(dir);
  if (tls === undefined) {
    t.comment('skipped: openssl is not available to make a test certificate');
    return;
  }
  const { server, logs } = await startRouter(t, dir, tls, false);
  const tlsCredentials = grpc.credentials.createSsl(await readFile(tls.cert));

  t.test('client tokens get upstream codes; health needs none', async (t) => {
    t.equal(await repositoryExists(server.address, new grpc.Metadata()), grpc.status.UNAUTHENTICATED, 'missing token');
    const malformed = new grpc.Metadata();
    malformed.set('authorization', 'Bearer nonsense');
    t.equal(await repositoryExists(server.address, malformed), grpc.status.UNAUTHENTICATED, 'malformed token');
    t.equal(await repositoryExists(server.address, v2TokenMetadata('wrong-secret', now())), grpc.status.PERMISSION_DENIED, 'wrong secret');
    t.equal(await repositoryExists(server.address, v2TokenMetadata(TOKEN, now() - 120)), grpc.status.PERMISSION_DENIED, 'stale token');
    t.not(await repositoryExists(server.address, v2TokenMetadata(TOKEN, now())), grpc.status.UNAUTHENTICATED, 'a good token gets through to routing');
    t.equal(await healthCheck(server.address, grpc.credentials.createInsecure()), 'SERVING');
  });

  t.test('TLS serves the same services', async (t) => {
    t.ok(server.tlsAddress, 'tls_listen_addr is bound');
    t.equal(await healthCheck(server.tlsAddress!, tlsCredentials), 'SERVING');
    t.equal(await repositoryExists(server.tlsAddress!, new grpc.Metadata(), tlsCredentials), grpc.status.UNAUTHENTICATED);
    const admin = new AdminClient(server.tlsAddress!, { token: TOKEN, credentials: tlsCredentials });
    t.teardown(() => admin.close());
    t.equal((await admin.raftStatus()).id, 1, 'the admin API over TLS, with the token');
    t.rejects(healthCheck(server.tlsAddress!, grpc.credentials.createInsecure()), 'plaintext is refused on the TLS port');
  });

  t.test('secrets never reach the logs', async (t) => {
    const text = logs();
    t.match(text, /router listening/, 'the logs were captured');
    for (const secret of [TOKEN, NODE_TOKEN, DB_PASSWORD, RAFT_TOKEN]) t.notOk(text.includes(secret), `${secret.split('-')[0]} secret absent`);
  });

  t.test('Raft traffic over TLS: three routers elect a leader and commit', async (t) => {
    const ports = [await freePort('127.0.0.1'), await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const peers = ports.map((port, i) => ({ id: i + 1, address: `127.0.0.1:${port}` }));
    const routers = await Promise.all(
      peers.map((peer) =>
        PraefectServer.start({
          config: parseConfig({
            listen_addr: '127.0.0.1:0',
            tls: { certificate_path: tls.cert, key_path: tls.key },
            auth: { token: TOKEN },
            virtual_storage: [{ name: 'default', node: [{ storage: 'gitaly-1', address: 'tcp://127.0.0.1:1' }] }],
            database: { host: '127.0.0.1', port: 1 },
            raft: { node_id: peer.id, data_dir: path.join(dir, `tls-raft-${peer.id}`), peers, tls: true, ca_file: tls.cert, tick: '50ms' },
          }),
          logger: pino({ level: 'silent' }),
        }),
      ),
    );
    t.teardown(() => Promise.all(routers.map((r) => r.stop(1_000))));
    const admin = new AdminClient(routers[2]!.address, { token: TOKEN });
    t.teardown(() => admin.close());
    const deadline = Date.now() + 30_000;
    let state = await admin.clusterState(true).catch(() => undefined);
    while ((state === undefined || !state.fresh || state.routers.length < 3) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = await admin.clusterState(true).catch(() => undefined);
    }
    t.ok(state?.fresh, 'a ReadIndex round went through the group over TLS');
    t.equal(state?.routers.length, 3, 'every router\'s proposals committed');
  });

  t.test('transitioning mode lets calls without a valid token through', async (t) => {
    const open = await startRouter(t, dir, tls, true);
    t.not(await repositoryExists(open.server.address, new grpc.Metadata()), grpc.status.UNAUTHENTICATED);
    t.not(await repositoryExists(open.server.address, v2TokenMetadata('wrong-secret', now())), grpc.status.PERMISSION_DENIED);
  });
});
