// Every refusal names its key path, every problem in a file is listed at
// once, and no message ever quotes a secret.
import t from 'tap';
import { ConfigError, parseConfig, parseConfigToml, loadConfigFile } from '../../src/config/index.js';
import { minimalDocument, withKey, type RawDocument } from './fixtures/documents.js';

interface Case {
  readonly name: string;
  readonly doc: RawDocument;
  readonly path: string;
  readonly message: RegExp;
}

const base = minimalDocument();
const set = (path: ReadonlyArray<string | number>, value: unknown): RawDocument => withKey(base, path, value);
const node = (storage: string, address: string): Record<string, string> => ({ storage, address });
const vs0 = ['virtual_storage', 0];

const CASES: Case[] = [
  { name: 'unknown top-level key', doc: set(['sentry'], {}), path: 'sentry', message: /^unknown key$/ },
  { name: 'misspelt top-level key', doc: set(['listen_adr'], 'x'), path: 'listen_adr', message: /^unknown key \(did you mean listen_addr\?\)$/ },
  { name: 'misspelt key in a table', doc: set(['failover', 'monitor_intervall'], '1s'), path: 'failover.monitor_intervall', message: /did you mean monitor_interval\?/ },
  { name: 'misspelt key in a node', doc: set([...vs0, 'node', 0, 'tokn'], 'x'), path: 'virtual_storage[0].node[0].tokn', message: /did you mean token\?/ },
  { name: 'misspelt key in a peer', doc: set(['raft', 'peers', 0, 'adress'], 'x'), path: 'raft.peers[0].adress', message: /did you mean address\?/ },
  {
    name: 'a near miss of upstream\'s worker count',
    doc: set(['replication', 'parallel_storage_processing_concurrency'], 2),
    path: 'replication.parallel_storage_processing_concurrency',
    message: /did you mean parallel_storage_processing_workers\?/,
  },
  { name: 'unknown key with no near miss', doc: set(['database', 'pool'], 2), path: 'database.pool', message: /^unknown key$/ },
  { name: 'no listener', doc: set(['listen_addr'], undefined), path: 'listen_addr', message: /no listener/ },
  { name: 'bad listen_addr', doc: set(['listen_addr'], 'localhost'), path: 'listen_addr', message: /host:port/ },
  { name: 'port out of range', doc: set(['listen_addr'], '127.0.0.1:70000'), path: 'listen_addr', message: /65535/ },
  { name: 'listen_addr of the wrong type', doc: set(['listen_addr'], 2305), path: 'listen_addr', message: /expected string, received number/ },
  { name: 'tls listener without [tls]', doc: set(['tls_listen_addr'], '0.0.0.0:3305'), path: 'tls', message: /certificate_path and key_path/ },
  { name: '[tls] without key_path', doc: set(['tls'], { certificate_path: '/c' }), path: 'tls.key_path', message: /required/ },
  { name: 'bad prometheus_listen_addr', doc: set(['prometheus_listen_addr'], ':x'), path: 'prometheus_listen_addr', message: /host:port/ },
  { name: 'bad graceful_stop_timeout', doc: set(['graceful_stop_timeout'], '2h'), path: 'graceful_stop_timeout', message: /at most 1h/ },
  { name: 'transitioning not a bool', doc: set(['auth', 'transitioning'], 'yes'), path: 'auth.transitioning', message: /expected boolean/ },
  { name: 'unknown log level', doc: set(['logging', 'level'], 'loud'), path: 'logging.level', message: /expected one of/ },
  { name: 'unsorted buckets', doc: set(['prometheus', 'grpc_latency_buckets'], [1, 0.5]), path: 'prometheus.grpc_latency_buckets', message: /strictly increasing/ },
  { name: 'no virtual storage', doc: set(['virtual_storage'], undefined), path: 'virtual_storage', message: /required/ },
  { name: 'empty virtual storage list', doc: set(['virtual_storage'], []), path: 'virtual_storage', message: /at least one/ },
  { name: 'virtual storage without nodes', doc: set([...vs0, 'node'], []), path: 'virtual_storage[0].node', message: /at least one/ },
  { name: 'virtual storage without name', doc: set([...vs0, 'name'], undefined), path: 'virtual_storage[0].name', message: /required/ },
  { name: 'bad virtual storage name', doc: set([...vs0, 'name'], 'a b'), path: 'virtual_storage[0].name', message: /letters, digits/ },
  {
    name: 'duplicate virtual storage names',
    doc: set(['virtual_storage'], [
      { name: 'vs', node: [node('a', 'h1:1')] },
      { name: 'vs', node: [node('b', 'h2:1')] },
    ]),
    path: 'virtual_storage[1].name',
    message: /duplicate virtual storage name "vs"/,
  },
  { name: 'node without address', doc: set([...vs0, 'node', 0, 'address'], undefined), path: 'virtual_storage[0].node[0].address', message: /required/ },
  { name: 'bad node address', doc: set([...vs0, 'node'], [node('a', 'h:1'), node('b', 'http://h:2')]), path: 'virtual_storage[0].node[1].address', message: /tcp:\/\/host:port/ },
  { name: 'relative unix address', doc: set([...vs0, 'node', 0, 'address'], 'unix:gitaly.sock'), path: 'virtual_storage[0].node[0].address', message: /unix:\/absolute/ },
  { name: 'node storage empty', doc: set([...vs0, 'node', 0, 'storage'], ''), path: 'virtual_storage[0].node[0].storage', message: /empty/ },
  {
    name: 'duplicate storage names within a virtual storage',
    doc: set([...vs0, 'node'], [node('g1', 'h:1'), node('g2', 'h:2'), node('g1', 'h:3')]),
    path: 'virtual_storage[0].node[2].storage',
    message: /duplicate storage "g1" in virtual storage "default"/,
  },
  {
    name: 'two storages of one virtual storage on one address',
    doc: set([...vs0, 'node'], [node('g1', 'tcp://h:1'), node('g2', 'tcp://h:1')]),
    path: 'virtual_storage[0].node[1].address',
    message: /already serves another storage/,
  },
  { name: 'replication factor above node count', doc: set([...vs0, 'default_replication_factor'], 2), path: 'virtual_storage[0].default_replication_factor', message: /2 is more than the 1 storage/ },
  { name: 'negative replication factor', doc: set([...vs0, 'default_replication_factor'], -1), path: 'virtual_storage[0].default_replication_factor', message: /Too small/ },
  { name: 'fractional replication factor', doc: set([...vs0, 'default_replication_factor'], 1.5), path: 'virtual_storage[0].default_replication_factor', message: /int/ },
  { name: 'monitor_interval below 100ms', doc: set(['failover', 'monitor_interval'], '99ms'), path: 'failover.monitor_interval', message: /at least 100ms/ },
  { name: 'monitor_interval as a number', doc: set(['failover', 'monitor_interval'], 1), path: 'failover.monitor_interval', message: /expected string/ },
  { name: 'monitor_interval without unit', doc: set(['failover', 'monitor_interval'], '1000'), path: 'failover.monitor_interval', message: /unit.*got "1000"/ },
  { name: 'probe_timeout above monitor_interval', doc: set(['failover'], { monitor_interval: '200ms', probe_timeout: '300ms' }), path: 'failover.probe_timeout', message: /must not exceed monitor_interval \(200ms\)/ },
  { name: 'probe_timeout above the default interval', doc: set(['failover', 'probe_timeout'], '2s'), path: 'failover.probe_timeout', message: /must not exceed monitor_interval \(1s\)/ },
  { name: 'consecutive_probes zero', doc: set(['failover', 'consecutive_probes'], 0), path: 'failover.consecutive_probes', message: /Too small/ },
  { name: 'other election strategies', doc: set(['failover', 'election_strategy'], 'sql'), path: 'failover.election_strategy', message: /per_repository/ },
  { name: 'half-set error thresholds', doc: set(['failover', 'read_error_threshold_count'], 5), path: 'failover.write_error_threshold_count', message: /needs all of/ },
  { name: 'error window alone', doc: set(['failover', 'error_threshold_window'], '1m'), path: 'failover.read_error_threshold_count', message: /needs all of/ },
  { name: 'replication batch_size zero', doc: set(['replication', 'batch_size'], 0), path: 'replication.batch_size', message: /Too small/ },
  { name: 'backoff base above max', doc: set(['replication'], { retry_backoff_base: '10m' }), path: 'replication.retry_backoff_base', message: /must not exceed retry_backoff_max \(5m\)/ },
  { name: 'scheduling_interval too short', doc: set(['reconciliation', 'scheduling_interval'], '10ms'), path: 'reconciliation.scheduling_interval', message: /at least 100ms \(or "0" for off\)/ },
  { name: 'unsupported sslmode', doc: set(['database', 'sslmode'], 'prefer'), path: 'database.sslmode', message: /expected one of/ },
  { name: 'database port out of range', doc: set(['database', 'port'], 0), path: 'database.port', message: /Too small/ },
  { name: 'database statement_timeout zero', doc: set(['database', 'statement_timeout'], '0'), path: 'database.statement_timeout', message: /at least 1ms/ },
  { name: 'no [raft]', doc: set(['raft'], undefined), path: 'raft', message: /required/ },
  { name: 'raft node_id missing', doc: set(['raft', 'node_id'], undefined), path: 'raft.node_id', message: /required/ },
  { name: 'raft node_id zero', doc: set(['raft', 'node_id'], 0), path: 'raft.node_id', message: /Too small/ },
  { name: 'relative raft data_dir', doc: set(['raft', 'data_dir'], 'raft'), path: 'raft.data_dir', message: /absolute/ },
  { name: 'raft node_id not among peers', doc: set(['raft', 'node_id'], 4), path: 'raft.node_id', message: /4 is not among raft.peers/ },
  {
    name: 'duplicate peer ids',
    doc: set(['raft', 'peers'], [{ id: 1, address: 'a:1' }, { id: 2, address: 'b:1' }, { id: 2, address: 'c:1' }]),
    path: 'raft.peers[2].id',
    message: /duplicate peer id 2/,
  },
  {
    name: 'duplicate peer addresses',
    doc: set(['raft', 'peers'], [{ id: 1, address: 'a:1' }, { id: 2, address: 'a:1' }]),
    path: 'raft.peers[1].address',
    message: /already another peer's/,
  },
  { name: 'peer without address', doc: set(['raft', 'peers'], [{ id: 1 }]), path: 'raft.peers[0].address', message: /required/ },
  { name: 'unknown peer key', doc: set(['raft', 'peers'], [{ id: 1, address: 'a:1', name: 'x' }]), path: 'raft.peers[0].name', message: /unknown key/ },
  { name: 'no peers', doc: set(['raft', 'peers'], []), path: 'raft.peers', message: /founding member/ },
  { name: 'election_ticks not above heartbeat_ticks', doc: set(['raft', 'heartbeat_ticks'], 10), path: 'raft.election_ticks', message: /must exceed heartbeat_ticks \(10\)/ },
  { name: 'raft tick too long', doc: set(['raft', 'tick'], '11s'), path: 'raft.tick', message: /at most 10s/ },
  { name: 'fresh_reads not a bool', doc: set(['routing', 'fresh_reads'], 1), path: 'routing.fresh_reads', message: /expected boolean/ },
  { name: 'max_in_flight zero', doc: set(['routing', 'max_in_flight'], 0), path: 'routing.max_in_flight', message: /Too small/ },
  { name: 'vote_timeout not a duration', doc: set(['transactions', 'vote_timeout'], 'soon'), path: 'transactions.vote_timeout', message: /needs a number/ },
  { name: 'secondary_timeout beyond vote_timeout', doc: set(['transactions'], { vote_timeout: '1s', secondary_timeout: '2s' }), path: 'transactions.secondary_timeout', message: /must not exceed vote_timeout \(1s\)/ },
  { name: 'transactions unknown key', doc: set(['transactions', 'voting'], true), path: 'transactions.voting', message: /nrecognized|unknown/i },
  { name: 'a table given as a value', doc: set(['failover'], 'fast'), path: 'failover', message: /expected object/ },
];

function problemsOf(doc: unknown): ConfigError['problems'] {
  try {
    parseConfig(doc);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

t.test('the minimal document itself is valid', async (t) => {
  t.same(problemsOf(base), []);
});

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const problems = problemsOf(c.doc);
    const found = problems.find((p) => p.path === c.path);
    t.ok(found, `a problem at ${c.path}; got ${JSON.stringify(problems)}`);
    if (found !== undefined) t.match(found.message, c.message);
  });
}

t.test('every problem of a file is listed at once, each by key path', async (t) => {
  let doc = set(['listen_addr'], 'nope');
  doc = withKey(doc, ['failover', 'monitor_interval'], '10ms');
  doc = withKey(doc, [...vs0, 'node'], [node('g1', 'h:1'), node('g1', 'bad address')]);
  doc = withKey(doc, [...vs0, 'default_replication_factor'], 3);
  doc = withKey(doc, ['raft', 'node_id'], 9);
  doc = withKey(doc, ['raft', 'peers'], [{ id: 1, address: 'a:1' }, { id: 1, address: 'b:1' }]);
  doc = withKey(doc, ['bogus'], true);
  const paths = problemsOf(doc).map((p) => p.path).sort();
  t.same(paths, [
    'bogus',
    'failover.monitor_interval',
    'listen_addr',
    'raft.node_id',
    'raft.peers[1].id',
    'virtual_storage[0].default_replication_factor',
    'virtual_storage[0].node[1].address',
    'virtual_storage[0].node[1].storage',
  ]);
  t.throws(() => parseConfig(doc), { name: 'ConfigError', message: /^invalid configuration:\n {2}/ });
});

t.test('the document itself must be a table', async (t) => {
  for (const doc of [null, 42, 'text', [], undefined]) {
    const problems = problemsOf(doc);
    t.equal(problems[0]?.path, '(top level)', JSON.stringify(doc) ?? 'undefined');
  }
});

t.test('TOML syntax errors give line and column but never quote the file', async (t) => {
  const text = 'listen_addr = "127.0.0.1:2305"\n[auth]\ntoken = "hunter2-secret\n';
  const error = t.throws(() => parseConfigToml(text)) as ConfigError;
  t.equal(error.name, 'ConfigError');
  t.match(error.message, /^invalid TOML:\n {2}\(top level\): line 3, column \d+: [a-z ]+$/);
  t.notMatch(error.message, /hunter2/);
  const bare = t.throws(() => parseConfigToml('[auth]\ntoken = hunter2-secret\n')) as ConfigError;
  t.notMatch(bare.message, /hunter2/);
  t.match(bare.message, /line 2/);
});

t.test('secrets in wrongly typed or unknown places are never quoted', async (t) => {
  const secret = 'sekret-value-123456';
  const docs = [
    set(['auth', 'token'], 12345),
    set(['auth', 'tokn'], secret),
    set(['auth', 'token'], secret.repeat(300)),
    set([...vs0, 'node', 0, 'token'], [secret]),
    set(['database', 'password'], { value: secret }),
    set(['raft', 'token'], true),
    set(['database', 'passwd'], secret),
  ];
  for (const doc of docs) {
    const problems = problemsOf(doc);
    t.ok(problems.length > 0);
    t.notMatch(JSON.stringify(problems), /sekret/);
  }
});

t.test('an unreadable file is a ConfigError naming the file', async (t) => {
  t.throws(() => loadConfigFile('/nonexistent/praefect.toml'), { name: 'ConfigError', message: /cannot read \/nonexistent\/praefect.toml: ENOENT/ });
});

t.test('Raft over TLS needs the certificate of [tls]', async (t) => {
  const error = (() => {
    try {
      parseConfig(withKey(minimalDocument(), ['raft', 'tls'], true));
      return undefined;
    } catch (e) {
      return e;
    }
  })();
  t.type(error, ConfigError);
  t.match((error as ConfigError).message, /raft\.tls: Raft over TLS needs \[tls\] certificate_path and key_path/);
});
