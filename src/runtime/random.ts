/**
 * Seeded randomness for the runtime and the demo, so a run under a VirtualClock is reproducible:
 * the same seed gives the same jitter, the same traffic mix, the same execution ids.
 */

/** mulberry32: a small 32-bit PRNG, uniform in [0, 1). Not for secrets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';

/** RFC 9562 version-4-shaped UUIDs drawn from `random` (deterministic for a seeded source). */
export function uuidFrom(random: () => number): () => string {
  return () => {
    let out = '';
    for (let i = 0; i < 32; i++) {
      let digit = Math.floor(random() * 16) & 15;
      if (i === 12) digit = 4;
      else if (i === 16) digit = 8 | (digit & 3);
      out += HEX[digit];
      if (i === 7 || i === 11 || i === 15 || i === 19) out += '-';
    }
    return out;
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A ULID for `timeMillis` with its 80 random bits from `random`: for ids that must be stable across
 * runs of the sample org (flow, folder, user ids are part of what a SIEM keys on).
 */
export function ulidFrom(timeMillis: number, random: () => number): string {
  let time = Math.max(0, Math.floor(timeMillis));
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (CROCKFORD[time % 32] as string) + head;
    time = Math.floor(time / 32);
  }
  let tail = '';
  for (let i = 0; i < 16; i++) tail += CROCKFORD[Math.floor(random() * 32) & 31];
  return head + tail;
}
