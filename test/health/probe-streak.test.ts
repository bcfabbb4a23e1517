// The flip rule on its own: N in a row, and nothing less, changes the state.
import t from 'tap';
import { nextStreak, STARTUP_STREAK, type ProbeStreak } from '../../src/health/index.js';

function run(results: readonly boolean[], threshold: number, from: ProbeStreak = STARTUP_STREAK): ProbeStreak[] {
  const states: ProbeStreak[] = [];
  let streak = from;
  for (const ok of results) {
    streak = nextStreak(streak, ok, threshold);
    states.push(streak);
  }
  return states;
}

t.test('startup is unhealthy until N successes in a row', async (t) => {
  t.same(STARTUP_STREAK, { healthy: false, successes: 0, failures: 0 });
  t.same(run([true, true, true], 3).map((s) => s.healthy), [false, false, true]);
  t.same(run([true, true, false, true, true, true], 3).map((s) => s.healthy), [false, false, false, false, false, true]);
});

t.test('healthy flips only after N failures in a row', async (t) => {
  const healthy: ProbeStreak = { healthy: true, successes: 3, failures: 0 };
  t.same(run([false, false, false], 3, healthy).map((s) => s.healthy), [true, true, false]);
  t.same(run([false, false, true, false, false, true], 3, healthy).every((s) => s.healthy), true, 'interrupted failures never flip');
});

t.test('N = 1 follows every probe', async (t) => {
  t.same(run([true, false, true, false], 1).map((s) => s.healthy), [true, false, true, false]);
});

t.test('counters are capped at the threshold', async (t) => {
  const states = run(Array.from({ length: 50 }, () => true), 3);
  t.same(states.at(-1), { healthy: true, successes: 3, failures: 0 });
  t.same(run(Array.from({ length: 50 }, () => false), 3).at(-1), { healthy: false, successes: 0, failures: 3 });
});
