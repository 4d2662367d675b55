import type { OutboundEvent } from '../destinations/destination.js';

/**
 * CloudEvents 1.0 envelopes for execution events (https://github.com/cloudevents/spec, v1.0.2),
 * JSON event format. The event itself is `data`, embedded as its stored JSON text (never
 * re-serialized), so the envelope is built by string concatenation.
 *
 * Attribute mapping (docs/formats.md):
 * - `specversion` "1.0"
 * - `id`              the event's `idempotency_key` (unique per event, stable across re-deliveries,
 *                     so `source` + `id` de-duplicates as the spec intends)
 * - `source`          `/flowstream/orgs/{org_id}/flows/{flow_id}`, a URI-reference, each id
 *                     percent-encoded as a path segment
 * - `type`            `com.okta.workflows.execution.` + the canonical event type in lower case
 *                     (`com.okta.workflows.execution.flow_start`)
 * - `subject`         the `execution_id` (omitted when empty: the spec forbids an empty subject)
 * - `time`            the event's `timestamp` when it is an RFC 3339 timestamp (omitted otherwise:
 *                     lenient ingest accepts events whose timestamp is not)
 * - `datacontenttype` "application/json"
 * - `data`            the event
 */

export const CLOUDEVENTS_SPECVERSION = '1.0';
export const CLOUDEVENT_TYPE_PREFIX = 'com.okta.workflows.execution.';
/** Structured content mode, one event per body (CloudEvents HTTP binding §3.2). */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';
/** Batched content mode, a JSON array of events (CloudEvents HTTP binding §3.3). */
export const CLOUDEVENTS_BATCH_CONTENT_TYPE = 'application/cloudevents-batch+json';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function cloudEventType(eventType: string): string {
  return `${CLOUDEVENT_TYPE_PREFIX}${eventType.toLowerCase()}`;
}

export function cloudEventSource(orgId: string, flowId: string): string {
  return `/flowstream/orgs/${encodeURIComponent(orgId)}/flows/${encodeURIComponent(flowId)}`;
}

/**
 * The `id`: the idempotency key, or, for an event that somehow has none, an id derived from its
 * sequence number (the spec requires a non-empty id).
 */
export function cloudEventId(event: OutboundEvent): string {
  return event.idempotencyKey !== '' ? event.idempotencyKey : `flowstream-seq-${event.seq}`;
}

/** Whether `value` can be the `time` attribute (RFC 3339 and a real instant). */
export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * The event as one CloudEvent in the JSON format, on a single line when `json` is. `data` is
 * `json` verbatim.
 */
export function cloudEventJson(event: OutboundEvent, json: string = event.json): string {
  let out = `{"specversion":"${CLOUDEVENTS_SPECVERSION}"`;
  out += `,"id":${JSON.stringify(cloudEventId(event))}`;
  out += `,"source":${JSON.stringify(cloudEventSource(event.orgId, event.flowId))}`;
  out += `,"type":${JSON.stringify(cloudEventType(event.eventType))}`;
  if (event.executionId !== '') out += `,"subject":${JSON.stringify(event.executionId)}`;
  if (isRfc3339(event.timestamp)) out += `,"time":${JSON.stringify(event.timestamp)}`;
  out += ',"datacontenttype":"application/json"';
  out += `,"data":${json}}`;
  return out;
}
