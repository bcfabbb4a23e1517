// Key paths as an operator reads them in a TOML file: `failover.monitor_interval`,
// `virtual_storage[0].node[1].address`.

export type KeyPath = ReadonlyArray<PropertyKey>;

export const TOP_LEVEL = '(top level)';

export function formatKeyPath(path: KeyPath): string {
  if (path.length === 0) return TOP_LEVEL;
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
