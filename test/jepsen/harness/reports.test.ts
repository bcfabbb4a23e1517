// The report writers: both SVG plots shade every fault window and plot every
// completed operation; the timeline shows each operation and the verdicts.
import t from 'tap';
import { faultBands, latencySvg, rateSvg, runChecks, timelineHtml, buildConfig } from '../../../jepsen/harness/index.js';
import { EVENTS, registerHistory } from './fixtures/saved-run.js';

const history = registerHistory();
const bands = faultBands(EVENTS, history);

t.test('fault bands pair each start with its stop; a fault left open ends at the heal', async (t) => {
  t.same(bands, [{ start: 100, end: 300, label: 'partition isolate-one: isolate praefect-2' }]);
  const open = faultBands([EVENTS[0]!, EVENTS[2]!], history);
  t.same(open, [{ start: 100, end: 301, label: 'partition isolate-one: isolate praefect-2' }]);
});

t.test('latency-raw.svg: one dot per completed operation, coloured by outcome, and the shaded band', async (t) => {
  const svg = latencySvg(history, bands);
  t.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.equal((svg.match(/<circle /g) ?? []).length, 4, 'four client operations');
  t.equal((svg.match(/fill="#ff9f1c"/g) ?? []).length, 2, 'the info write (and the legend)');
  t.match(svg, /<rect x="[\d.]+" y="20" width="[\d.]+" height="300" fill="#888" fill-opacity="0.18"><title>partition isolate-one: isolate praefect-2<\/title>/);
});

t.test('rate.svg: a line per function and outcome, and the band', async (t) => {
  const svg = rateSvg(history, bands, 100);
  for (const series of ['write ok', 'write info', 'read ok']) t.match(svg, new RegExp(`>${series}<`));
  t.equal((svg.match(/<polyline /g) ?? []).length, 3);
  t.match(svg, /fill-opacity="0.18"/);
});

t.test('timeline.html: each operation as a bar with its details, the verdicts, and escaping', async (t) => {
  const config = buildConfig({ seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy', concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 }, 'register', 'none');
  const results = runChecks({ workload: 'register', history, raftSamples: [], writers: [], windows: [] });
  const html = timelineHtml({ ...config, name: 'a <b> run' }, history, bands, results);
  t.equal((html.match(/class="op /g) ?? []).length, 4);
  t.match(html, /class="op info"[^>]*title="p1 write key=jepsen-1\/register-1.git value=2 -&gt; info/);
  t.match(html, /<li class="pass">linearizability: pass<\/li>/);
  t.match(html, /a &lt;b&gt; run/);
  t.notMatch(html, /a <b> run/);
});
