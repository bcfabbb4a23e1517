/**
 * Interns names (storages, virtual storages) as small integers, so a million
 * repositories hold numbers rather than a million copies of the same strings.
 * Ids are never reused or removed: records and snapshots refer to them.
 */
export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  static from(names: readonly string[]): StringTable {
    const table = new StringTable();
    for (const name of names) table.intern(name);
    return table;
  }

  intern(name: string): number {
    const known = this.ids.get(name);
    if (known !== undefined) return known;
    const id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    return id;
  }

  /** The id of a name seen before, or undefined (lookups never intern). */
  lookup(name: string): number | undefined {
    return this.ids.get(name);
  }

  name(id: number): string {
    const name = this.names[id];
    if (name === undefined) throw new RangeError(`no name with id ${id}`);
    return name;
  }

  get size(): number {
    return this.names.length;
  }

  toArray(): string[] {
    return [...this.names];
  }
}
