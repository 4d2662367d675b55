import type { EventLog, NewEvent } from '../log/event-log.js';
import { validateEvent } from '../schema/validate.js';
import { coversOrg, type Principal } from '../security/tokens.js';
import { ApiError } from '../server/errors.js';
import type { BodyItem } from './parse-events.js';

export type ValidationMode = 'lenient' | 'strict';

export interface RejectedEvent {
  readonly index: number;
  readonly errors: readonly { readonly path: string; readonly code: string; readonly message: string }[];
}

/** The ingest answer (SPEC §3): the body of a 202, and of a 400 when nothing was valid. */
export interface IngestOutcome {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: readonly RejectedEvent[];
}

function field(event: Record<string, unknown>, name: string): string {
  const value = event[name];
  return typeof value === 'string' ? value : String(value);
}

/**
 * Validates every item, checks that the principal covers each valid event's org, and appends the
 * valid events in one durable commit. Resolves only after that commit (SPEC §3: a crash after the
 * answer loses nothing). An event of an org the token does not cover refuses the whole request
 * (403), so nothing is half-stored.
 *
 * The stored text is `JSON.stringify` of the parsed event, not the bytes received: what is
 * delivered is then exactly what was validated (a received text with a duplicate key could
 * otherwise say one org to the validator and another to the SIEM).
 */
export async function ingestEvents(
  items: readonly BodyItem[],
  principal: Principal,
  log: EventLog,
  mode: ValidationMode,
): Promise<IngestOutcome> {
  const rejected: RejectedEvent[] = [];
  const valid: NewEvent[] = [];
  for (const item of items) {
    if (!item.ok) {
      rejected.push({
        index: item.index,
        errors: [{ path: '', code: 'FS_INVALID_JSON', message: item.message }],
      });
      continue;
    }
    const result = validateEvent(item.value, mode);
    if (!result.ok) {
      rejected.push({ index: item.index, errors: result.errors });
      continue;
    }
    const event = item.value as Record<string, unknown>;
    const orgId = field(event, 'org_id');
    if (!coversOrg(principal, orgId)) {
      throw new ApiError('FS_FORBIDDEN_ORG', {
        causes: [
          `The event at index ${item.index} belongs to org ${JSON.stringify(orgId)}, which this token does not cover.`,
        ],
      });
    }
    valid.push({
      orgId,
      eventType: result.eventType,
      flowId: field(event, 'flow_id'),
      executionId: field(event, 'execution_id'),
      idempotencyKey: field(event, 'idempotency_key'),
      json: JSON.stringify(event),
    });
  }
  if (valid.length === 0) {
    throw new ApiError('FS_NO_VALID_EVENTS', {
      causes: rejected.slice(0, 10).map((r) => `index ${r.index}: ${r.errors[0]?.message ?? 'invalid'}`),
      extra: { accepted: 0, duplicates: 0, rejected },
    });
  }
  const appended = await log.append(valid);
  return { accepted: appended.accepted, duplicates: appended.duplicates, rejected };
}
