// The TLS listener (tls_listen_addr with [tls]) serves the same protocol.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { requireService } from '../../src/protocol/index.js';
import { tempDir } from './fixtures/git.js';
import { startInProcessNode } from './fixtures/node.js';

const dir = await tempDir('tls-');
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
const openssl = await promisify(execFile)('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
  '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
]).then(() => true, () => false);

if (!openssl) {
  t.plan(0, 'openssl is not available to make a test certificate');
} else {
  t.test('health over TLS', async (t) => {
    const node = await startInProcessNode({ extra: { tls_listen_addr: '127.0.0.1:0', tls: { certificate_path: cert, key_path: key } } });
    t.teardown(() => node.close());
    const Health = grpc.makeGenericClientConstructor(requireService('grpc.health.v1.Health'), 'Health');
    const tlsAddress = await tlsAddressOf(node);
    const client = new Health(tlsAddress, grpc.credentials.createSsl(await readFile(cert)));
    t.teardown(() => client.close());
    const response = await new Promise((resolve, reject) =>
      (client as unknown as { Check: (r: unknown, cb: (e: Error | null, r: unknown) => void) => void }).Check({}, (e, r) => (e ? reject(e) : resolve(r))),
    );
    t.same(response, { status: 'SERVING' });
  });
}

async function tlsAddressOf(node: { tlsAddress?: string }): Promise<string> {
  if (node.tlsAddress === undefined) throw new Error('the node reported no TLS address');
  return node.tlsAddress;
}
