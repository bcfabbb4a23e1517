// Upstream's error thresholds: count within a sliding window, per kind.
import t from 'tap';
import { ErrorRateTracker } from '../../src/health/index.js';

const settings = { readErrorCount: 3, writeErrorCount: 2, windowMs: 10_000 };

t.test('the write threshold within the window trips it', async (t) => {
  const tracker = new ErrorRateTracker(settings);
  tracker.record('write', 0);
  t.notOk(tracker.exceeded(0));
  tracker.record('write', 5_000);
  t.ok(tracker.exceeded(5_000));
  t.ok(tracker.exceeded(9_999), 'still within the window of the first error');
  t.notOk(tracker.exceeded(10_000), 'the first error aged out');
});

t.test('read and write errors are counted apart', async (t) => {
  const tracker = new ErrorRateTracker(settings);
  tracker.record('read', 0);
  tracker.record('write', 0);
  tracker.record('read', 1);
  t.notOk(tracker.exceeded(1), 'two reads and one write reach neither threshold');
  tracker.record('read', 2);
  t.ok(tracker.exceeded(2));
});

t.test('errors spread wider than the window never trip it', async (t) => {
  const tracker = new ErrorRateTracker(settings);
  for (let i = 0; i < 100; i++) {
    tracker.record('read', i * 6_000);
    t.notOk(tracker.exceeded(i * 6_000));
  }
});

t.test('a burst keeps it tripped until the threshold-th newest error ages out', async (t) => {
  const tracker = new ErrorRateTracker(settings);
  for (let ms = 0; ms <= 9_000; ms += 1_000) tracker.record('read', ms);
  t.ok(tracker.exceeded(16_999), 'the third newest error (7 s) is within 10 s');
  t.notOk(tracker.exceeded(17_000));
});
