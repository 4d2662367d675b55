import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import type { StoredEvent } from '../../src/log/event-log.js';
import { hashEmail } from '../../src/streams/pii.js';
import { applyTransforms, compileFilter, toOutboundEvent } from '../../src/streams/transforms.js';

function stored(overrides: Partial<StoredEvent> = {}, fields: Record<string, unknown> = {}): StoredEvent {
  const event = {
    event_type: 'FLOW_START',
    execution_id: 'e1',
    timestamp: '2024-04-04T18:30:38.730Z',
    flow_id: 'f1',
    org_id: 'o1',
    user_email: 'jessie.doe@example.corp',
    idempotency_key: 'k1',
    ...fields,
  };
  return {
    seq: 7,
    ingestedAtMillis: Date.parse('2025-01-01T00:00:00.000Z'),
    orgId: 'o1',
    eventType: 'FLOW_START',
    flowId: 'f1',
    executionId: 'e1',
    idempotencyKey: 'k1',
    // Spacing that JSON.stringify would not produce: proves the text is passed through.
    json: JSON.stringify(event, null, 1),
    ...overrides,
  };
}

describe('hashEmail', () => {
  test('is HMAC-SHA256 with the key, base64url without padding', () => {
    const expected = createHmac('sha256', 'k'.repeat(16))
      .update('jessie.doe@example.corp')
      .digest('base64url');
    assert.equal(hashEmail('jessie.doe@example.corp', 'k'.repeat(16)), expected);
    assert.match(hashEmail('a@b.c', 'key'), /^[A-Za-z0-9_-]{43}$/);
  });

  test('depends on the key and on the exact address (no case folding)', () => {
    const key = 'secret-key-0123456789';
    assert.notEqual(hashEmail('a@b.c', key), hashEmail('a@b.c', `${key}x`));
    assert.notEqual(hashEmail('A@b.c', key), hashEmail('a@b.c', key));
    assert.equal(hashEmail('a@b.c', key), hashEmail('a@b.c', key));
  });
});

describe('compileFilter', () => {
  const table: [
    name: string,
    filter: Parameters<typeof compileFilter>[0],
    event: StoredEvent,
    wanted: boolean,
  ][] = [
    ['no filter, every org', { org: '*', filter: {} }, stored(), true],
    ['org matches', { org: 'o1', filter: {} }, stored(), true],
    ['other org', { org: 'o2', filter: {} }, stored(), false],
    ['event type listed', { org: '*', filter: { eventTypes: ['FLOW_START'] } }, stored(), true],
    ['event type not listed', { org: '*', filter: { eventTypes: ['FLOW_FAIL'] } }, stored(), false],
    [
      'alias in the filter matches the canonical type',
      { org: '*', filter: { eventTypes: ['FLOW_FAILED'] } },
      stored({ eventType: 'FLOW_FAIL' }),
      true,
    ],
    ['flow listed', { org: '*', filter: { flowIds: ['f1', 'f2'] } }, stored(), true],
    ['flow not listed', { org: '*', filter: { flowIds: ['f2'] } }, stored(), false],
    ['empty type list delivers nothing', { org: '*', filter: { eventTypes: [] } }, stored(), false],
    [
      'all three must hold',
      { org: 'o1', filter: { eventTypes: ['FLOW_START'], flowIds: ['f9'] } },
      stored(),
      false,
    ],
  ];
  for (const [name, stream, event, wanted] of table) {
    test(name, () => assert.equal(compileFilter(stream)(event), wanted));
  }
});

describe('toOutboundEvent', () => {
  test('without transforms, json is the stored text byte for byte', () => {
    const s = stored();
    const out = toOutboundEvent(s, {});
    assert.ok(out.ok);
    assert.equal(out.event.json, s.json);
    assert.equal(out.event.timestamp, '2024-04-04T18:30:38.730Z');
    assert.equal(out.event.seq, 7);
    assert.equal(out.event.event.user_email, 'jessie.doe@example.corp');
  });

  test('hashUserEmail replaces user_email with the keyed hash, other fields and order kept', () => {
    const key = 'a-key-of-16-chars!';
    const out = toOutboundEvent(stored(), { hashUserEmail: { key } });
    assert.ok(out.ok);
    const parsed = JSON.parse(out.event.json) as Record<string, unknown>;
    assert.equal(parsed.user_email, hashEmail('jessie.doe@example.corp', key));
    assert.equal(out.event.event.user_email, parsed.user_email);
    assert.deepEqual(Object.keys(parsed), Object.keys(JSON.parse(stored().json) as object));
    assert.equal(parsed.execution_id, 'e1');
  });

  test('an event without user_email is unchanged by hashing', () => {
    const s = stored({}, { user_email: undefined });
    const out = toOutboundEvent(s, { hashUserEmail: { key: 'a-key-of-16-chars!' } });
    assert.ok(out.ok);
    assert.equal(out.event.json, s.json);
  });

  test('a missing timestamp falls back to the ingest time', () => {
    const out = toOutboundEvent(stored({}, { timestamp: undefined }), {});
    assert.ok(out.ok);
    assert.equal(out.event.timestamp, '2025-01-01T00:00:00.000Z');
  });

  test('unparseable or non-object JSON is an error value, not a throw', () => {
    const bad = toOutboundEvent(stored({ json: '{"oops"' }), {});
    assert.equal(bad.ok, false);
    assert.equal(!bad.ok && bad.error.code, 'EVENT_UNPARSEABLE');
    const arr = toOutboundEvent(stored({ json: '[1]' }), {});
    assert.equal(!arr.ok && arr.error.code, 'EVENT_NOT_AN_OBJECT');
  });

  test('applyTransforms on a synthetic event hashes too', () => {
    const out = toOutboundEvent(stored(), {});
    assert.ok(out.ok);
    const t = applyTransforms(out.event, { hashUserEmail: { key: 'k'.repeat(16) } });
    assert.equal(t.event.user_email, hashEmail('jessie.doe@example.corp', 'k'.repeat(16)));
    assert.equal(out.event.event.user_email, 'jessie.doe@example.corp', 'the input is not mutated');
  });
});
