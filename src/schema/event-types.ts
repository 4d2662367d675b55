/**
 * The seven execution event types (SPEC §1). Only FLOW_START and FLOW_COMPLETE appear in Okta's seed
 * document; the other five follow their pattern. Producers in the wild also send the past-tense or
 * spelled-out variants below: on input they are validated as their canonical type, and the event is
 * forwarded exactly as received (its `event_type` is not rewritten).
 */

export const EVENT_TYPES = [
  'FLOW_START',
  'FLOW_COMPLETE',
  'FLOW_FAIL',
  'FLOW_CANCEL',
  'FLOW_PAUSE',
  'FLOW_RATE_LIMIT',
  'FLOW_THROTTLE',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Accepted input spellings → canonical type. Matching is exact (case-sensitive), like the canonical names. */
export const EVENT_TYPE_ALIASES: Readonly<Record<string, EventType>> = Object.freeze({
  FLOW_FAILED: 'FLOW_FAIL',
  FLOW_FAILURE: 'FLOW_FAIL',
  FLOW_CANCELED: 'FLOW_CANCEL',
  FLOW_CANCELLED: 'FLOW_CANCEL',
  FLOW_PAUSED: 'FLOW_PAUSE',
  FLOW_RATE_LIMITED: 'FLOW_RATE_LIMIT',
  FLOW_THROTTLED: 'FLOW_THROTTLE',
});

const CANONICAL_BY_NAME: ReadonlyMap<string, EventType> = new Map<string, EventType>([
  ...EVENT_TYPES.map((type): [string, EventType] => [type, type]),
  ...Object.entries(EVENT_TYPE_ALIASES),
]);

/** The canonical type for a canonical name or an alias; `undefined` for anything else. */
export function canonicalEventType(name: string): EventType | undefined {
  return CANONICAL_BY_NAME.get(name);
}

/** True when `name` is one of the canonical names (not an alias). */
export function isCanonicalEventType(name: string): name is EventType {
  return CANONICAL_BY_NAME.get(name) === name;
}

/** The aliases of one canonical type, in the order of EVENT_TYPE_ALIASES. */
export function aliasesOf(type: EventType): readonly string[] {
  return Object.entries(EVENT_TYPE_ALIASES)
    .filter(([, canonical]) => canonical === type)
    .map(([alias]) => alias);
}
