// Admission to the pool, without a server: first come, first served, and a
// bounded wait.
import t from 'tap';
import { ConnectionPermits } from '../../src/db/connection-permits.js';
import { DatabaseUnavailableError, PoolExhaustedError } from '../../src/db/index.js';

t.test('permits go to waiters oldest first', async (t) => {
  const permits = new ConnectionPermits(1, 1000);
  await permits.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3].map((n) => permits.acquire().then(() => order.push(n)));
  t.equal(permits.waiting, 3);
  for (let i = 0; i < 3; i += 1) {
    permits.release();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(waiters);
  t.same(order, [1, 2, 3]);
  t.equal(permits.active, 1, 'the last waiter holds the permit');
  permits.release();
  t.equal(permits.active, 0);
});

t.test('a waiter past the bound gets PoolExhaustedError and leaves the queue', async (t) => {
  const permits = new ConnectionPermits(1, 50);
  await permits.acquire();
  const started = Date.now();
  await t.rejects(permits.acquire(), PoolExhaustedError);
  t.ok(Date.now() - started >= 45);
  t.equal(permits.waiting, 0);
  permits.release();
  await permits.acquire();
  t.pass('the permit is still usable');
});

t.test('close refuses waiters and newcomers', async (t) => {
  const permits = new ConnectionPermits(1, 10_000);
  await permits.acquire();
  const waiting = permits.acquire();
  permits.close();
  await t.rejects(waiting, DatabaseUnavailableError);
  await t.rejects(permits.acquire(), DatabaseUnavailableError);
});
