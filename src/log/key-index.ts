/**
 * The in-memory index of the idempotency keys of the stored events: which seq, if any, holds a key.
 *
 * Why in memory: idempotency keys are random (UUIDv4), so a SQLite UNIQUE index on them takes
 * random inserts; once that index is larger than a commit, each stored event dirties its own
 * index page, which goes to the WAL and again to the database at checkpoint. Measured on the
 * bench machine, appends with such an index lost two thirds of their rate by one million stored
 * events, 4–5x slower than with this table (bench/figures/event-log.md). This table costs 8 bytes per slot instead (10.7–21 bytes per stored event, at
 * a load factor between 0.375 and 0.75) and is rebuilt at open from the compact `key_blocks` table.
 *
 * It is exact, not probabilistic: it maps a 32-bit tag of the key (keyTag) to candidate seqs, and
 * the caller confirms each candidate against the stored key, so tag collisions cost a lookup but
 * never a wrong answer.
 *
 * Layout: open addressing with linear probing over two parallel Uint32Arrays (tag, seq mod 2^32),
 * a power-of-two capacity, tag 0 meaning an empty slot (keyTag never returns 0) and
 * backward-shift deletion (no tombstones). Seqs are stored modulo 2^32: the stored seqs of a log
 * are contiguous (firstSeq..lastSeq) and far fewer than 2^32, so a seq is recovered from its low 32
 * bits and any seq known to be at or below it (`baseSeq`, the log's firstSeq).
 */

const MIN_CAPACITY = 1024;
const MAX_LOAD = 0.75;
const TWO_POW_32 = 4294967296;

export class KeyIndex {
  private tags: Uint32Array;
  private seqs: Uint32Array;
  private mask: number;
  private entries = 0;

  /** `expectedEntries` pre-sizes the table (at open, the number of stored events). */
  constructor(expectedEntries = 0) {
    const capacity = capacityFor(expectedEntries);
    this.tags = new Uint32Array(capacity);
    this.seqs = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.entries;
  }

  /** Bytes held by the table (both arrays). */
  get memoryBytes(): number {
    return this.tags.byteLength + this.seqs.byteLength;
  }

  /**
   * The first candidate seq with this tag for which `isKey(seq)` says yes, or undefined.
   * `baseSeq` is any seq at or below every seq in the index (the log's firstSeq).
   */
  find(tag: number, baseSeq: number, isKey: (seq: number) => boolean): number | undefined {
    const { tags, seqs, mask } = this;
    for (let i = tag & mask; tags[i] !== 0; i = (i + 1) & mask) {
      if (tags[i] !== tag) continue;
      const seq = baseSeq + (((seqs[i] as number) - baseSeq) >>> 0);
      if (isKey(seq)) return seq;
    }
    return undefined;
  }

  add(tag: number, seq: number): void {
    if (tag === 0 || !Number.isInteger(tag) || tag >= TWO_POW_32) throw new RangeError(`bad key tag ${tag}`);
    if (this.entries + 1 > (this.mask + 1) * MAX_LOAD) this.resize((this.mask + 1) * 2);
    this.place(tag, seq >>> 0);
    this.entries++;
  }

  /** Removes the entry (tag, seq); returns whether it was there. */
  delete(tag: number, seq: number): boolean {
    const { tags, seqs, mask } = this;
    const low = seq >>> 0;
    let i = tag & mask;
    for (; tags[i] !== 0; i = (i + 1) & mask) {
      if (tags[i] === tag && seqs[i] === low) break;
    }
    if (tags[i] === 0) return false;
    // Backward shift: move later entries of the probe run into the hole when their home slot
    // allows it, so lookups never need tombstones.
    let hole = i;
    for (let j = (hole + 1) & mask; tags[j] !== 0; j = (j + 1) & mask) {
      const home = (tags[j] as number) & mask;
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      tags[hole] = tags[j] as number;
      seqs[hole] = seqs[j] as number;
      hole = j;
    }
    tags[hole] = 0;
    seqs[hole] = 0;
    this.entries--;
    return true;
  }

  private place(tag: number, low: number): void {
    const { tags, seqs, mask } = this;
    let i = tag & mask;
    while (tags[i] !== 0) i = (i + 1) & mask;
    tags[i] = tag;
    seqs[i] = low;
  }

  private resize(capacity: number): void {
    const { tags, seqs } = this;
    this.tags = new Uint32Array(capacity);
    this.seqs = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as number;
      if (tag !== 0) this.place(tag, seqs[i] as number);
    }
  }
}

function capacityFor(entries: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity * MAX_LOAD < entries) capacity *= 2;
  return capacity;
}

/**
 * A 32-bit tag of an idempotency key, never 0: MurmurHash3 (x86, 32-bit) over the key's UTF-16
 * code units, two per block, with the log's own random `seed`. The seed is stored in the database
 * (the tags in `key_blocks` depend on it) and differs between logs, so a producer cannot choose
 * keys that all land in one probe run without knowing it.
 */
export function keyTag(key: string, seed: number): number {
  let h = seed >>> 0;
  const length = key.length;
  let i = 0;
  for (; i + 1 < length; i += 2) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    let k = key.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  h >>>= 0;
  return h === 0 ? 1 : h;
}
