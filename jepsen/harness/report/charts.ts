// The two plots of a run, as standalone SVG: raw latency of every operation
// (a dot at its invocation time, coloured by outcome, log scale) and the
// completion rate per second per function and outcome, both with the fault
// windows shaded so cause and effect line up.
import { clientOperations, pairOperations, type Op, type Operation } from '../../checker/index.js';

export interface FaultBand {
  /** ms since the run began */
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

const WIDTH = 900;
const HEIGHT = 360;
const MARGIN = { left: 60, right: 150, top: 20, bottom: 40 };
const OUTCOME_COLOURS: Record<string, string> = { ok: '#2a9d3a', fail: '#d62728', info: '#ff9f1c' };
const LINE_COLOURS = ['#1f77b4', '#2a9d3a', '#d62728', '#ff9f1c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

interface Frame {
  readonly x: (ms: number) => number;
  readonly y: (value: number) => number;
  readonly endMs: number;
}

export function latencySvg(history: readonly Op[], bands: readonly FaultBand[]): string {
  const operations = completed(history);
  const latencies = operations.map((o) => Math.max(0.1, o.completion!.time - o.invoke.time));
  const maxLatency = Math.max(10, ...latencies);
  const endMs = runEnd(history);
  const logMax = Math.log10(maxLatency);
  const logMin = -1;
  const frame: Frame = {
    endMs,
    x: (ms) => MARGIN.left + (ms / endMs) * plotWidth(),
    y: (value) => MARGIN.top + plotHeight() - ((Math.log10(Math.max(0.1, value)) - logMin) / (logMax - logMin)) * plotHeight(),
  };
  const dots = operations.map((o, i) => {
    const colour = OUTCOME_COLOURS[o.outcome] ?? '#000';
    return `<circle cx="${frame.x(o.invoke.time).toFixed(1)}" cy="${frame.y(latencies[i]!).toFixed(1)}" r="1.6" fill="${colour}" fill-opacity="0.7"><title>${escapeXml(`${o.f} ${o.outcome} ${latencies[i]!.toFixed(1)} ms`)}</title></circle>`;
  });
  const ticks: string[] = [];
  for (let p = 0; p <= Math.ceil(logMax); p++) {
    const y = frame.y(10 ** p);
    ticks.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth()}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${MARGIN.left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${10 ** p}</text>`);
  }
  const legend = Object.entries(OUTCOME_COLOURS).map(([name, colour], i) => legendItem(i, colour, name));
  return svg('Latency (ms, log scale) by invocation time', frame, bands, [...ticks, ...dots, ...legend]);
}

export function rateSvg(history: readonly Op[], bands: readonly FaultBand[], bucketMs = 1_000): string {
  const endMs = runEnd(history);
  const buckets = Math.max(1, Math.ceil(endMs / bucketMs));
  const series = new Map<string, number[]>();
  for (const o of completed(history)) {
    const name = `${o.f} ${o.outcome}`;
    const counts = series.get(name) ?? new Array<number>(buckets).fill(0);
    const at = Math.min(buckets - 1, Math.floor(o.completion!.time / bucketMs));
    counts[at] = (counts[at] ?? 0) + 1000 / bucketMs;
    series.set(name, counts);
  }
  const maxRate = Math.max(1, ...[...series.values()].flat());
  const frame: Frame = {
    endMs,
    x: (ms) => MARGIN.left + (ms / endMs) * plotWidth(),
    y: (value) => MARGIN.top + plotHeight() - (value / maxRate) * plotHeight(),
  };
  const lines = [...series].sort(([a], [b]) => a.localeCompare(b)).map(([name, counts], i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length]!;
    const points = counts.map((c, b) => `${frame.x((b + 0.5) * bucketMs).toFixed(1)},${frame.y(c).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>${legendItem(i, colour, name)}`;
  });
  const ticks = [0, 0.5, 1].map((f) => `<text x="${MARGIN.left - 6}" y="${frame.y(maxRate * f) + 4}" text-anchor="end" font-size="10">${(maxRate * f).toFixed(0)}</text>`);
  return svg('Completions per second', frame, bands, [...ticks, ...lines]);
}

function svg(title: string, frame: Frame, bands: readonly FaultBand[], body: readonly string[]): string {
  const shaded = bands.map(
    (b) =>
      `<rect x="${frame.x(b.start).toFixed(1)}" y="${MARGIN.top}" width="${Math.max(1, frame.x(b.end) - frame.x(b.start)).toFixed(1)}" height="${plotHeight()}" fill="#888" fill-opacity="0.18"><title>${escapeXml(b.label)}</title></rect>`,
  );
  const xTicks: string[] = [];
  const stepS = Math.max(1, Math.ceil(frame.endMs / 1000 / 10));
  for (let s = 0; s * 1000 <= frame.endMs; s += stepS) {
    xTicks.push(`<text x="${frame.x(s * 1000).toFixed(1)}" y="${MARGIN.top + plotHeight() + 16}" text-anchor="middle" font-size="10">${s}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...shaded,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth()}" height="${plotHeight()}" fill="none" stroke="#333"/>`,
    ...xTicks,
    `<text x="${MARGIN.left + plotWidth() / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="11">time (s); shaded: faults</text>`,
    `<text x="14" y="${MARGIN.top + plotHeight() / 2}" transform="rotate(-90 14 ${MARGIN.top + plotHeight() / 2})" text-anchor="middle" font-size="11">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legendItem(i: number, colour: string, name: string): string {
  const y = MARGIN.top + 10 + i * 16;
  const x = MARGIN.left + plotWidth() + 10;
  return `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${colour}"/><text x="${x + 14}" y="${y + 1}" font-size="11">${escapeXml(name)}</text>`;
}

function completed(history: readonly Op[]): Operation[] {
  return clientOperations(pairOperations(history)).filter((o) => o.completion !== undefined);
}

function runEnd(history: readonly Op[]): number {
  return Math.max(1, history[history.length - 1]?.time ?? 1);
}

function plotWidth(): number {
  return WIDTH - MARGIN.left - MARGIN.right;
}

function plotHeight(): number {
  return HEIGHT - MARGIN.top - MARGIN.bottom;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}
