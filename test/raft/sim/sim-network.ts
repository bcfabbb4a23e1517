import type { Message, NodeId } from '../../../src/raft/core/index.js';
import type { SeededPrng } from '../../../src/raft/core/index.js';

export interface NetworkFaults {
  /** Probability in [0, 1] that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Messages take 1..maxDelayTicks ticks; different delays reorder them. */
  maxDelayTicks: number;
}

interface InFlight {
  readonly deliverAtTick: number;
  readonly seq: number;
  readonly message: Message;
}

export type PartitionKind = 'none' | 'isolate' | 'halves' | 'oneWay' | 'bridge';

/**
 * A seeded network: delays, drops, duplicates and partitions. A partition is
 * a set of directed links that are cut; `oneWay` cuts only one direction.
 */
export class SimNetwork {
  private inFlight: InFlight[] = [];
  private seq = 0;
  private cut = new Set<string>();
  faults: NetworkFaults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 1 };
  partitionDescription = 'none';
  delivered = 0;
  dropped = 0;

  constructor(private readonly prng: SeededPrng) {}

  send(message: Message, nowTick: number): void {
    if (this.prng.nextFloat() < this.faults.dropRate) {
      this.dropped++;
      return;
    }
    const copies = this.prng.nextFloat() < this.faults.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = 1 + this.prng.nextInt(this.faults.maxDelayTicks);
      this.inFlight.push({ deliverAtTick: nowTick + delay, seq: this.seq++, message });
    }
  }

  /** Messages due by `nowTick` whose link is not cut, in a seeded order. */
  takeDue(nowTick: number): Message[] {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.inFlight) (item.deliverAtTick <= nowTick ? due : later).push(item);
    this.inFlight = later;
    due.sort((a, b) => a.deliverAtTick - b.deliverAtTick || a.seq - b.seq);
    const out: Message[] = [];
    for (const item of due) {
      if (this.isCut(item.message.from, item.message.to)) this.dropped++;
      else out.push(item.message);
    }
    this.delivered += out.length;
    return out;
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
    this.partitionDescription = 'none';
  }

  /** Cuts every link between the two groups, both ways, or only a → b when oneWay. */
  partition(a: readonly NodeId[], b: readonly NodeId[], oneWay = false): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.cut.add(`${x}>${y}`);
        if (!oneWay) this.cut.add(`${y}>${x}`);
      }
    }
  }

  /** Cuts `id` off from every other node, both ways. */
  isolate(id: NodeId, nodes: readonly NodeId[]): void {
    this.heal();
    this.partition([id], nodes.filter((n) => n !== id));
    this.partitionDescription = `isolate-leader ${id}`;
  }

  /** Applies a seeded random partition over `nodes`. */
  randomPartition(nodes: readonly NodeId[]): void {
    this.heal();
    if (nodes.length < 2) return;
    const shuffled = shuffle(nodes, this.prng);
    const kinds: PartitionKind[] = ['isolate', 'halves', 'oneWay', 'bridge'];
    const kind = kinds[this.prng.nextInt(kinds.length)]!;
    const half = Math.floor(shuffled.length / 2);
    switch (kind) {
      case 'isolate':
        this.partition(shuffled.slice(0, 1), shuffled.slice(1));
        break;
      case 'halves':
        this.partition(shuffled.slice(0, half), shuffled.slice(half));
        break;
      case 'oneWay':
        this.partition(shuffled.slice(0, 1), shuffled.slice(1), true);
        break;
      case 'bridge': {
        // The bridge node (first) talks to both sides; the sides cannot talk to each other.
        const rest = shuffled.slice(1);
        const side = Math.floor(rest.length / 2);
        this.partition(rest.slice(0, side), rest.slice(side));
        break;
      }
      default:
        break;
    }
    this.partitionDescription = `${kind} ${shuffled.join(',')}`;
  }

  /** Drops everything in flight to or from `id` (a crashed node's sockets close). */
  dropNode(id: NodeId): void {
    this.inFlight = this.inFlight.filter((item) => item.message.to !== id && item.message.from !== id);
  }

  pendingCount(): number {
    return this.inFlight.length;
  }
}

export function shuffle<T>(items: readonly T[], prng: SeededPrng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.nextInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
