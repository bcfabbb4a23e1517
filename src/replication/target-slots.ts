/** Running jobs per target storage, bounded by `perTarget`. */
export class TargetSlots {
  private readonly used = new Map<string, number>();

  constructor(private readonly perTarget: number) {}

  free(virtualStorage: string, storage: string): number {
    return this.perTarget - (this.used.get(key(virtualStorage, storage)) ?? 0);
  }

  acquire(virtualStorage: string, storage: string): void {
    const k = key(virtualStorage, storage);
    this.used.set(k, (this.used.get(k) ?? 0) + 1);
  }

  release(virtualStorage: string, storage: string): void {
    const k = key(virtualStorage, storage);
    const left = (this.used.get(k) ?? 1) - 1;
    if (left <= 0) this.used.delete(k);
    else this.used.set(k, left);
  }
}

function key(virtualStorage: string, storage: string): string {
  return `${virtualStorage}\n${storage}`;
}
