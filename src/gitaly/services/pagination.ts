// Gitaly's PaginationParameter: items after the one matching page_token, at
// most `limit` of them. Without parameters everything is returned; a set
// limit of 0 returns nothing; a negative one means no limit.
import { InvalidArgumentError } from '../errors.js';
import type { PaginationMsg } from '../wire-types.js';

export function paginate<T>(items: readonly T[], params: PaginationMsg | null, tokenMatches: (item: T, token: string) => boolean): T[] {
  if (params === null) return [...items];
  let start = 0;
  if (params.page_token.length > 0) {
    const index = items.findIndex((item) => tokenMatches(item, params.page_token));
    if (index < 0) throw new InvalidArgumentError(`could not find page token "${params.page_token}"`);
    start = index + 1;
  }
  const limit = params.limit < 0 ? items.length : params.limit;
  return items.slice(start, start + limit);
}

/** Splits items into messages of at most `size` items. */
export function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
