/**
 * Which events a runner still owes its destination, and so how far its cursor may move.
 *
 * Events enter in increasing seq order as the reader takes them from the log (`add`); events the
 * filter drops never enter, they only advance `readSeq` (`skipTo`). An event leaves when it is
 * acknowledged or dead-lettered (`complete`), in any order (several lanes finish out of order).
 *
 * Invariant: `acknowledged()` is the highest seq such that every event at or below it that passed
 * the filter is complete; with nothing pending it is `readSeq`. It never decreases.
 */
export class CursorTracker {
  /** Seqs in read order; those before `#head` are complete. */
  #order: number[] = [];
  #head = 0;
  readonly #pending = new Set<number>();
  #readSeq: number;

  constructor(cursor: number) {
    this.#readSeq = cursor;
  }

  /** The highest seq the reader has taken from the log (owed, delivered or filtered out). */
  get readSeq(): number {
    return this.#readSeq;
  }

  /** Events added and not yet complete. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The reader moved past `seq` (events the filter dropped, or that retention removed). */
  skipTo(seq: number): void {
    if (seq > this.#readSeq) this.#readSeq = seq;
  }

  add(seq: number): void {
    if (seq <= this.#readSeq) throw new Error(`seq ${seq} added out of order (read up to ${this.#readSeq})`);
    this.#order.push(seq);
    this.#pending.add(seq);
    this.#readSeq = seq;
  }

  /** Marks an owed event as acknowledged or dead-lettered. Completing twice is harmless. */
  complete(seq: number): void {
    this.#pending.delete(seq);
  }

  isPending(seq: number): boolean {
    return this.#pending.has(seq);
  }

  /** The oldest owed seq, if any. */
  firstPending(): number | undefined {
    while (this.#head < this.#order.length && !this.#pending.has(this.#order[this.#head] as number))
      this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return this.#head < this.#order.length ? this.#order[this.#head] : undefined;
  }

  acknowledged(): number {
    const first = this.firstPending();
    return first === undefined ? this.#readSeq : first - 1;
  }
}
