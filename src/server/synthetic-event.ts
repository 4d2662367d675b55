import { randomUUID } from 'node:crypto';
import { ulid } from 'ulid';
import type { OutboundEvent } from '../destinations/destination.js';

/**
 * The event `POST /api/v1/logStreams/{id}/test` sends: a strict-valid FLOW_START that says it is a
 * test (flow name, address), with fresh ids so receivers that de-duplicate still show it.
 */
export function syntheticTestEvent(now: () => number = Date.now): OutboundEvent {
  const event = {
    event_type: 'FLOW_START',
    execution_id: randomUUID(),
    timestamp: new Date(now()).toISOString(),
    flow_id: ulid(),
    flow_name: 'flowstream connection test',
    org_id: ulid(),
    org_name: 'flowstream-test',
    org_hostname: 'flowstream.invalid',
    user_id: ulid(),
    user_email: 'connection.test@flowstream.invalid',
    folder_id_path: '',
    folder_id: ulid(),
    folder_name: ['flowstream'],
    engine_mode: 'realtime',
    idempotency_key: randomUUID(),
    throttled: false,
    depth: 0,
    address: 'flowstream:test:connection:1.0.0:send',
  };
  event.folder_id_path = event.folder_id;
  return {
    seq: 0,
    eventType: event.event_type,
    orgId: event.org_id,
    flowId: event.flow_id,
    executionId: event.execution_id,
    idempotencyKey: event.idempotency_key,
    timestamp: event.timestamp,
    event,
    json: JSON.stringify(event),
  };
}
