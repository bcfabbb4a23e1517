import { describeResult, Simulator, type SimOptions, type SimResult } from './simulator.js';

export const DEFAULT_SIM: Omit<SimOptions, 'seed' | 'nodes'> = {
  chaosTicks: 600,
  livenessTicks: 400,
  electionTicks: 10,
};

/** 3 nodes for even seeds, 5 for odd, so a sweep covers both. */
export function nodesForSeed(seed: number): 3 | 5 {
  return seed % 2 === 0 ? 3 : 5;
}

export async function runSeed(seed: number, overrides: Partial<SimOptions> = {}): Promise<SimResult> {
  return new Simulator({ ...DEFAULT_SIM, seed, nodes: nodesForSeed(seed), ...overrides }).run();
}

export function replayCommand(seed: number): string {
  return `npm run sim -- --seed ${seed}`;
}

export function failureReport(result: SimResult): string {
  return [
    describeResult(result),
    result.error ?? '',
    `last ${result.trace.length} trace lines:`,
    ...result.trace.slice(-60),
    `replay with: ${replayCommand(result.seed)}`,
  ].join('\n');
}
