import fc from 'fast-check';
import type { Op, OpType } from '../../../jepsen/checker/index.js';

/** One planned operation of one process; times come from the process's sequence. */
export interface PlannedOp {
  kind: 'read' | 'write' | 'cas' | 'append';
  key: number;
  gap: number;
  duration: number;
  /** Where inside the interval the op takes effect, as a fraction index. */
  pointRoll: number;
  /** 0-13 ok, 14-15 info (took effect), 16 info (did not), 17 fail, 18-19 crash (no completion; effect by parity). */
  outcomeRoll: number;
  /** Even: a cas expects the current value (and succeeds); odd: a value it does not hold (and fails). */
  casRoll: number;
}

const plannedOp: fc.Arbitrary<PlannedOp> = fc.record({
  kind: fc.constantFrom('read' as const, 'write' as const, 'cas' as const),
  key: fc.integer({ min: 0, max: 1 }),
  gap: fc.integer({ min: 0, max: 3 }),
  duration: fc.integer({ min: 1, max: 8 }),
  pointRoll: fc.nat(),
  outcomeRoll: fc.integer({ min: 0, max: 19 }),
  casRoll: fc.nat({ max: 1 }),
});

/** Up to 5 processes with up to 12 ops each. */
export const plannedProcesses = fc.array(fc.array(plannedOp, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 });

interface Scheduled {
  process: number;
  plan: PlannedOp;
  id: number;
  start: number;
  end: number;
  point: number;
  effective: boolean;
  type: Exclude<OpType, 'invoke'> | 'crash';
  invokeValue: unknown;
  resultValue: unknown;
}

/**
 * Runs the planned ops against a real sequential register per key, each op
 * taking effect at a point strictly inside its interval, and records the
 * history a client would have seen. Invocations and completions sit on even
 * times, effect points on odd ones, so a point is never at an edge.
 */
export function runRegister(processes: readonly (readonly PlannedOp[])[]): Op[] {
  const scheduled = schedule(processes);
  const registers = new Map<number, unknown>();
  for (const s of [...scheduled].sort((a, b) => a.point - b.point)) execute(s, registers);
  return record(scheduled);
}

/**
 * The same with a real list per key: writes and cas become appends of a
 * unique id, reads return a copy of the whole list.
 */
export function runAppendList(processes: readonly (readonly PlannedOp[])[]): Op[] {
  const scheduled = schedule(processes);
  const lists = new Map<number, number[]>();
  for (const s of [...scheduled].sort((a, b) => a.point - b.point)) {
    const list = lists.get(s.plan.key) ?? [];
    lists.set(s.plan.key, list);
    if (s.plan.kind === 'read') {
      s.resultValue = [...list];
      continue;
    }
    s.plan = { ...s.plan, kind: 'append' };
    s.invokeValue = s.id;
    s.resultValue = s.id;
    if (s.effective) list.push(s.id);
  }
  return record(scheduled);
}

function schedule(processes: readonly (readonly PlannedOp[])[]): Scheduled[] {
  const scheduled: Scheduled[] = [];
  processes.forEach((plans, process) => {
    let time = 0;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const start = time + 2 * plan.gap;
      const end = start + 2 * plan.duration;
      const point = start + 1 + 2 * (plan.pointRoll % plan.duration);
      const last = i === plans.length - 1;
      const roll = plan.outcomeRoll;
      const type = roll <= 13 ? 'ok' : roll <= 16 ? 'info' : roll === 17 ? 'fail' : last ? 'crash' : 'info';
      const effective = type === 'ok' || (roll >= 14 && roll <= 15) || (type === 'crash' && roll % 2 === 0) || (type === 'info' && roll >= 18);
      scheduled.push({ process, plan, id: scheduled.length, start, end, point, effective, type, invokeValue: null, resultValue: null });
      if (type === 'crash') break;
      time = end + 2;
    }
  });
  return scheduled;
}

function execute(s: Scheduled, registers: Map<number, unknown>): void {
  const current = registers.get(s.plan.key) ?? null;
  if (s.plan.kind === 'read') {
    s.resultValue = current;
    return;
  }
  if (s.plan.kind === 'write') {
    s.invokeValue = s.id;
    s.resultValue = s.id;
    if (s.effective) registers.set(s.plan.key, s.id);
    return;
  }
  const expected = s.plan.casRoll === 0 ? current : `not-${String(current)}`;
  s.invokeValue = [expected, s.id];
  s.resultValue = s.invokeValue;
  if (!s.effective) return;
  if (expected === current) registers.set(s.plan.key, s.id);
  else if (s.type === 'ok') s.type = 'fail';
}

function record(scheduled: readonly Scheduled[]): Op[] {
  const events: { time: number; invoke: boolean; op: Omit<Op, 'index'> }[] = [];
  for (const s of scheduled) {
    const base = { process: s.process, f: s.plan.kind, key: s.plan.key };
    events.push({ time: s.start, invoke: true, op: { ...base, type: 'invoke', value: s.plan.kind === 'read' ? null : s.invokeValue, time: s.start } });
    if (s.type === 'crash') continue;
    const value = s.type === 'ok' ? s.resultValue : null;
    events.push({ time: s.end, invoke: false, op: { ...base, type: s.type, value, time: s.end } });
  }
  // At equal times invocations go first: that only makes ops more concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.invoke) - Number(a.invoke));
  return events.map((e, index) => ({ ...e.op, index }));
}
