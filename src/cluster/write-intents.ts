import type { RepositoryRecord, WriteIntent } from './repository-record.js';

/** Bounds the intents one repository can hold, so a misbehaving router cannot grow the state without limit. */
export const MAX_INTENTS_PER_REPOSITORY = 1024;

export function findIntent(record: RepositoryRecord, intentId: string): WriteIntent | undefined {
  return record.intents?.find((intent) => intent.intentId === intentId);
}

export function addIntent(record: RepositoryRecord, intent: WriteIntent): void {
  if (record.intents === undefined) record.intents = [intent];
  else record.intents.push(intent);
}

/** Removes the intent if present; the list goes back to undefined when empty, as almost every repository has none. */
export function removeIntent(record: RepositoryRecord, intentId: string): WriteIntent | undefined {
  const at = record.intents?.findIndex((intent) => intent.intentId === intentId) ?? -1;
  if (at < 0) return undefined;
  const [removed] = record.intents!.splice(at, 1);
  if (record.intents!.length === 0) record.intents = undefined;
  return removed;
}
