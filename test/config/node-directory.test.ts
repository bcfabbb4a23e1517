import t from 'tap';
import { NodeDirectory } from '../../src/config/index.js';

const directory = new NodeDirectory([
  { name: 'default', defaultReplicationFactor: 0, nodes: [{ storage: 'b', address: 'tcp://127.0.0.1:1', token: 's' }, { storage: 'a', address: 'unix:/tmp/x', token: '' }] },
  { name: 'other', defaultReplicationFactor: 2, nodes: [{ storage: 'b', address: 'tls://node:2', token: 't' }] },
]);

t.test('nodes are looked up per virtual storage, in configuration order', async (t) => {
  t.same(directory.virtualStorages(), ['default', 'other']);
  t.same(directory.storages('default'), ['b', 'a']);
  t.same(directory.storages('missing'), []);
  t.same(directory.find('default', 'b'), { virtualStorage: 'default', storage: 'b', address: 'tcp://127.0.0.1:1', token: 's' });
  t.equal(directory.find('other', 'b')?.address, 'tls://node:2', 'the same storage name in another virtual storage is another node');
  t.equal(directory.find('other', 'a'), undefined);
  t.equal(directory.defaultReplicationFactor('other'), 2);
  t.same(directory.all().map((n) => `${n.virtualStorage}/${n.storage}`), ['default/b', 'default/a', 'other/b']);
});
