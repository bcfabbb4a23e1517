// The view for logs hides every secret but still shows whether one is set.
import t from 'tap';
import { parseConfigToml, redacted, REDACTED } from '../../src/config/index.js';
import { FULL_SECRETS, FULL_TOML, MINIMAL_TOML } from './fixtures/documents.js';

t.test('every secret is replaced, everything else kept', async (t) => {
  const config = parseConfigToml(FULL_TOML);
  const view = redacted(config);
  const text = JSON.stringify(view);
  for (const secret of FULL_SECRETS) t.notOk(text.includes(secret), `${secret.slice(0, 6)}… is hidden`);
  t.equal(view.auth.token, REDACTED);
  t.equal(view.database.password, REDACTED);
  t.equal(view.raft.token, REDACTED);
  t.same(view.virtualStorages.flatMap((vs) => vs.nodes.map((n) => n.token)), [REDACTED, REDACTED, REDACTED, '']);
  t.same({ ...view, auth: config.auth, database: config.database, raft: config.raft, virtualStorages: config.virtualStorages }, config);
  t.equal(view.database.host, 'postgres.internal');
  t.equal(view.virtualStorages[0]?.nodes[0]?.address, 'tcp://gitaly-1.internal:8075');
});

t.test('the original is untouched', async (t) => {
  const config = parseConfigToml(FULL_TOML);
  redacted(config);
  t.equal(config.auth.token, 'client-token-7f3a9c');
  t.equal(config.virtualStorages[0]?.nodes[0]?.token, 'node-token-gitaly-1-x81');
});

t.test('an unset secret stays visibly unset', async (t) => {
  const view = redacted(parseConfigToml(MINIMAL_TOML));
  t.equal(view.auth.token, '');
  t.equal(view.raft.token, '');
  t.equal(view.database.password, '');
});

t.test('a raft token inherited from [auth] is redacted too', async (t) => {
  const view = redacted(parseConfigToml(`${MINIMAL_TOML}\n[auth]\ntoken = "inherited-secret"\n`));
  t.equal(view.raft.token, REDACTED);
  t.notMatch(JSON.stringify(view), /inherited-secret/);
});
