// Upstream's address forms, as grpc-js dials them.
import t from 'tap';
import { dialTarget } from '../../src/health/index.js';

t.test('address forms', async (t) => {
  t.same(dialTarget('tcp://gitaly-1:8075'), { target: 'gitaly-1:8075', tls: false });
  t.same(dialTarget('tls://gitaly-1:9999'), { target: 'gitaly-1:9999', tls: true });
  t.same(dialTarget('unix:/run/gitaly.sock'), { target: 'unix:/run/gitaly.sock', tls: false });
  t.same(dialTarget('unix:///run/gitaly.sock'), { target: 'unix:/run/gitaly.sock', tls: false });
  t.same(dialTarget('127.0.0.1:8075'), { target: '127.0.0.1:8075', tls: false });
});
