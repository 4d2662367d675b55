import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../../src/log/event-log.js';

/**
 * Execution events for stream tests: `count` events spread round-robin over `executions`
 * executions, each a FLOW_START / FLOW_COMPLETE-shaped object with the base-schema fields the
 * runner and transforms look at. `n` (0-based, in append order) is inside the JSON, so a receiver
 * can check order per execution.
 */
export interface EventOptions {
  readonly executions?: number;
  readonly orgId?: string;
  readonly flowId?: string;
  readonly eventType?: string;
  /** Extra bytes of padding in each event's JSON (to test byte limits). */
  readonly padBytes?: number;
  /** Offset added to `n` (to continue numbering across appends). */
  readonly start?: number;
  /** Prefix of execution ids (so that several calls share executions). Default `exec`. */
  readonly executionPrefix?: string;
}

export const ORG = '01J29TH3XHECT79M257GG2QTKJ';
export const FLOW = '01J29TGKQERR78AD3VN0P9DPSW';

export function makeEvents(count: number, options: EventOptions = {}): NewEvent[] {
  const executions = options.executions ?? 1;
  const orgId = options.orgId ?? ORG;
  const flowId = options.flowId ?? FLOW;
  const eventType = options.eventType ?? 'FLOW_START';
  const prefix = options.executionPrefix ?? 'exec';
  const out: NewEvent[] = [];
  for (let i = 0; i < count; i++) {
    const n = (options.start ?? 0) + i;
    const executionId = `${prefix}-${n % executions}`;
    const idempotencyKey = randomUUID();
    const event: Record<string, unknown> = {
      event_type: eventType,
      execution_id: executionId,
      timestamp: new Date(Date.UTC(2024, 3, 4, 18, 30, 38) + n).toISOString(),
      flow_id: flowId,
      flow_name: 'Stream test flow',
      org_id: orgId,
      org_name: 'logstream-01',
      user_email: 'jessie.doe@example.corp',
      idempotency_key: idempotencyKey,
      throttled: false,
      n,
    };
    if (options.padBytes !== undefined) event.pad = 'x'.repeat(options.padBytes);
    out.push({ orgId, eventType, flowId, executionId, idempotencyKey, json: JSON.stringify(event) });
  }
  return out;
}

/** `n` of an outbound event made by `makeEvents`. */
export function nOf(event: { readonly event: Readonly<Record<string, unknown>> }): number {
  return event.event.n as number;
}
