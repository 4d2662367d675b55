import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '../../src/log/event-log.js';

/** A fresh directory under os.tmpdir(); `remove()` deletes it and everything in it. */
export function tempDirectory(prefix = 'fs-log-'): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A small event whose idempotency key is `key`; `extra` lands in the JSON (to vary its size). */
export function event(key: string, extra = ''): NewEvent {
  return {
    orgId: 'org-1',
    eventType: 'FLOW_START',
    flowId: 'flow-1',
    executionId: `exec-${key}`,
    idempotencyKey: key,
    json: JSON.stringify({ idempotency_key: key, extra }),
  };
}

export function events(prefix: string, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => event(`${prefix}-${i}`));
}

export function byteLength(json: string): number {
  return Buffer.byteLength(json, 'utf8');
}

/** A clock the test moves by hand. */
export function manualClock(startMillis = 1_700_000_000_000): {
  now: () => number;
  set(millis: number): void;
  advance(millis: number): void;
} {
  let current = startMillis;
  return {
    now: () => current,
    set: (millis) => {
      current = millis;
    },
    advance: (millis) => {
      current += millis;
    },
  };
}

/** The event the crash test's child appends under `key`: its JSON is a function of the key alone. */
export function crashEvent(key: string): NewEvent {
  return {
    orgId: 'org-crash',
    eventType: 'FLOW_COMPLETE',
    flowId: 'flow-crash',
    executionId: `exec-${key}`,
    idempotencyKey: key,
    json: JSON.stringify({ idempotency_key: key, event_type: 'FLOW_COMPLETE', padding: 'p'.repeat(200) }),
  };
}
