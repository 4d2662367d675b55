import type { DeliveryError, OutboundEvent } from '../destinations/destination.js';
import type { StoredEvent } from '../log/event-log.js';
import { canonicalEventType } from '../schema/event-types.js';
import { hashEmail } from './pii.js';
import type { StreamDefinition, StreamTransforms } from './stream.js';

/**
 * A stream's filter and transforms, between the event log and the destination.
 *
 * Filters are by org (`stream.org`, `*` = every org), canonical event type and flow id (SPEC §4:
 * `filter.eventTypes`, `filter.flowIds`). Okta's System Log streams have no per-type filter; its
 * Workflows execution log streaming has a per-flow toggle, which `flowIds` is. Aliases in a filter
 * (`FLOW_FAILED`) match their canonical type, since the log stores canonical types.
 *
 * `toOutboundEvent` parses the stored JSON once. When no transform changes the event, the outbound
 * `json` is the stored text itself, byte for byte; a transform re-serializes the changed object
 * (keys keep their order).
 */

export type EventPredicate = (event: StoredEvent) => boolean;

export function compileFilter(stream: Pick<StreamDefinition, 'org' | 'filter'>): EventPredicate {
  const org = stream.org === '*' ? undefined : stream.org;
  const types =
    stream.filter.eventTypes === undefined
      ? undefined
      : new Set(stream.filter.eventTypes.map((type) => canonicalEventType(type) ?? type));
  const flows = stream.filter.flowIds === undefined ? undefined : new Set(stream.filter.flowIds);
  return (event) =>
    (org === undefined || event.orgId === org) &&
    (types === undefined || types.has(event.eventType)) &&
    (flows === undefined || flows.has(event.flowId));
}

export type OutboundConversion =
  | { readonly ok: true; readonly event: OutboundEvent }
  | { readonly ok: false; readonly error: DeliveryError };

/** The outbound form of a stored event, with the stream's transforms applied. */
export function toOutboundEvent(stored: StoredEvent, transforms: StreamTransforms): OutboundConversion {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored.json);
  } catch (err: unknown) {
    return { ok: false, error: unparseable(err) };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return {
      ok: false,
      error: { code: 'EVENT_NOT_AN_OBJECT', message: 'the stored event is not a JSON object' },
    };
  }
  const object = parsed as Record<string, unknown>;
  const timestamp = object.timestamp;
  const base: OutboundEvent = {
    seq: stored.seq,
    eventType: stored.eventType,
    orgId: stored.orgId,
    flowId: stored.flowId,
    executionId: stored.executionId,
    idempotencyKey: stored.idempotencyKey,
    // Lenient ingest may store a non-string timestamp; the ingest time is then the best we know.
    timestamp: typeof timestamp === 'string' ? timestamp : new Date(stored.ingestedAtMillis).toISOString(),
    event: object,
    json: stored.json,
  };
  return { ok: true, event: applyTransforms(base, transforms) };
}

/** Applies the stream's transforms to an outbound event (also used for the synthetic test event). */
export function applyTransforms(event: OutboundEvent, transforms: StreamTransforms): OutboundEvent {
  const key = transforms.hashUserEmail?.key;
  if (key === undefined) return event;
  const email = event.event.user_email;
  if (typeof email !== 'string') return event;
  const changed = { ...event.event, user_email: hashEmail(email, key) };
  return { ...event, event: changed, json: JSON.stringify(changed) };
}

function unparseable(err: unknown): DeliveryError {
  const detail = err instanceof Error ? `: ${err.message}` : '';
  return { code: 'EVENT_UNPARSEABLE', message: `the stored event is not valid JSON${detail}` };
}
