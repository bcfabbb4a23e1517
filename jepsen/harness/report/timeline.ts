// timeline.html: the operations of each process as bars along time (hover
// for details), the fault windows shaded behind them, and the verdicts on
// top, in one self-contained page.
import { clientOperations, pairOperations, type Op } from '../../checker/index.js';
import type { CheckResults } from '../run-checks.js';
import type { TestConfig } from '../test-config.js';
import { escapeXml, type FaultBand } from './charts.js';

const ROW_PX = 14;
const PX_PER_S = 60;
const MAX_OPERATIONS = 20_000;

export function timelineHtml(config: TestConfig, history: readonly Op[], bands: readonly FaultBand[], results: CheckResults): string {
  const operations = clientOperations(pairOperations(history)).slice(0, MAX_OPERATIONS);
  const processes = [...new Set(operations.map((o) => String(o.process)))];
  const rowOf = new Map(processes.map((p, i) => [p, i]));
  const endMs = Math.max(1, history[history.length - 1]?.time ?? 1);
  const width = Math.ceil((endMs / 1000) * PX_PER_S) + 40;
  const height = processes.length * ROW_PX + 20;
  const x = (ms: number): number => (ms / 1000) * PX_PER_S;
  const bars = operations.map((o) => {
    const end = o.completion?.time ?? endMs;
    const title = `p${String(o.process)} ${o.f} key=${String(o.key ?? '')} value=${JSON.stringify(o.invoke.value)} -> ${o.outcome} ${o.completion === undefined ? '' : JSON.stringify(o.completion.value)} ${o.completion?.error === undefined ? '' : String(o.completion.error)} via ${o.invoke.node ?? '?'} [${o.invoke.time.toFixed(0)}..${end.toFixed(0)} ms]`;
    return `<div class="op ${o.outcome}" style="left:${x(o.invoke.time).toFixed(1)}px;top:${rowOf.get(String(o.process))! * ROW_PX}px;width:${Math.max(2, x(end) - x(o.invoke.time)).toFixed(1)}px" title="${escapeXml(title)}">${escapeXml(o.f)}</div>`;
  });
  const shaded = bands.map((b) => `<div class="band" style="left:${x(b.start).toFixed(1)}px;width:${Math.max(2, x(b.end) - x(b.start)).toFixed(1)}px;height:${height}px" title="${escapeXml(b.label)}"></div>`);
  const verdicts = Object.entries(results.checks).map(([name, c]) => `<li class="${c.valid ? 'pass' : 'failed'}">${escapeXml(name)}: ${c.valid ? 'pass' : 'FAIL'}</li>`);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeXml(config.name)}</title>
<style>
body{font-family:sans-serif;margin:16px}
.pass{color:#2a9d3a}.failed{color:#d62728;font-weight:bold}
#ops{position:relative;width:${width}px;height:${height}px;border-top:1px solid #ccc}
.op{position:absolute;height:${ROW_PX - 3}px;font-size:9px;line-height:${ROW_PX - 3}px;overflow:hidden;white-space:nowrap;border-radius:2px;color:#fff}
.op.ok{background:#2a9d3a}.op.fail{background:#d62728}.op.info{background:#ff9f1c}
.band{position:absolute;top:0;background:rgba(120,120,120,.18)}
#scroll{overflow-x:auto}
</style></head><body>
<h1>${escapeXml(config.name)}: ${results.valid ? '<span class="pass">valid</span>' : '<span class="failed">INVALID</span>'}</h1>
<p>workload ${escapeXml(config.workload)}, nemesis ${escapeXml(config.nemesis)}${config.scenario === undefined ? '' : `, scenario ${escapeXml(config.scenario)}`}, seed ${config.seed}, ${config.routers} routers, ${config.storages} storage nodes. ${operations.length} operations${operations.length === MAX_OPERATIONS ? ' (first shown)' : ''}; one row per process; green ok, red fail, orange info; grey bands are faults. Hover for details.</p>
<ul>${verdicts.join('')}</ul>
<ul>${bands.map((b) => `<li>${(b.start / 1000).toFixed(1)}–${(b.end / 1000).toFixed(1)} s: ${escapeXml(b.label)}</li>`).join('')}</ul>
<div id="scroll"><div id="ops">${shaded.join('')}${bars.join('')}</div></div>
</body></html>
`;
}
