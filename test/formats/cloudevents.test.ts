import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cloudEventJson,
  cloudEventSource,
  cloudEventType,
  isRfc3339,
} from '../../src/formats/cloudevents.js';
import { encodeJsonBatch } from '../../src/formats/json-framing.js';
import { fromJson, outboundEvent, SEED_EXAMPLES } from '../helpers/outbound-events.js';

describe('CloudEvents 1.0 envelope', () => {
  test('a seed event becomes this exact structured event', () => {
    const event = fromJson(SEED_EXAMPLES[1] ?? '', 2);
    assert.equal(
      cloudEventJson(event),
      '{"specversion":"1.0","id":"3c38b738b561288ddc8d345a3b59e6f7",' +
        '"source":"/flowstream/orgs/00o4mhtja45vHndwd0g7/flows/632567",' +
        '"type":"com.okta.workflows.execution.flow_complete",' +
        '"subject":"326b7317-6ea5-4d6a-a9f5-0ee8675c0428","time":"2024-04-04T18:30:38.777Z",' +
        `"datacontenttype":"application/json","data":${SEED_EXAMPLES[1]}}`,
    );
  });

  test('required attributes are present and non-empty for every event type', () => {
    for (let seq = 1; seq <= 7; seq++) {
      const event = outboundEvent({ seq });
      const ce = JSON.parse(cloudEventJson(event)) as Record<string, unknown>;
      assert.equal(ce.specversion, '1.0');
      assert.equal(ce.id, event.idempotencyKey);
      assert.equal(ce.source, `/flowstream/orgs/${event.orgId}/flows/${event.flowId}`);
      assert.equal(ce.type, `com.okta.workflows.execution.${event.eventType.toLowerCase()}`);
      assert.equal(ce.subject, event.executionId);
      assert.equal(ce.time, event.timestamp);
      assert.equal(ce.datacontenttype, 'application/json');
      assert.deepEqual(ce.data, event.event);
    }
  });

  test('the type uses the canonical event type, not the alias the producer sent', () => {
    const event = fromJson('{"event_type":"FLOW_FAILED","idempotency_key":"k"}', 1, 'FLOW_FAIL');
    assert.equal(JSON.parse(cloudEventJson(event)).type, 'com.okta.workflows.execution.flow_fail');
    assert.equal(cloudEventType('FLOW_THROTTLE'), 'com.okta.workflows.execution.flow_throttle');
  });

  test('ids with URI-unsafe characters are percent-encoded in the source', () => {
    assert.equal(cloudEventSource('org/1 2', 'flow?#'), '/flowstream/orgs/org%2F1%202/flows/flow%3F%23');
    assert.equal(cloudEventSource('', ''), '/flowstream/orgs//flows/');
  });

  test('optional attributes are omitted rather than empty or invalid', () => {
    const event = fromJson('{"event_type":"FLOW_START","timestamp":"yesterday"}', 9);
    const ce = JSON.parse(cloudEventJson(event)) as Record<string, unknown>;
    assert.equal('subject' in ce, false);
    assert.equal('time' in ce, false);
    // No idempotency key: a stable id from the sequence number (id must not be empty).
    assert.equal(ce.id, 'flowstream-seq-9');
  });

  test('isRfc3339', () => {
    assert.equal(isRfc3339('2024-04-04T18:30:38.730Z'), true);
    assert.equal(isRfc3339('2024-04-04T18:30:38+02:00'), true);
    assert.equal(isRfc3339('2024-04-04 18:30:38Z'), false);
    assert.equal(isRfc3339('2024-13-04T18:30:38Z'), false);
    assert.equal(isRfc3339('1712255438730'), false);
  });

  test('structured, batched and ndjson modes', () => {
    const a = outboundEvent({ seq: 1 });
    const b = outboundEvent({ seq: 2, indent: 2 });
    const one = encodeJsonBatch([a], 'object', 'cloudevents');
    assert.equal(one.contentType, 'application/cloudevents+json');
    assert.equal(one.body, cloudEventJson(a));
    const batch = encodeJsonBatch([a, b], 'array', 'cloudevents');
    assert.equal(batch.contentType, 'application/cloudevents-batch+json');
    assert.equal(batch.body, `[${cloudEventJson(a)},${cloudEventJson(b)}]`);
    const lines = encodeJsonBatch([a, b], 'ndjson', 'cloudevents');
    assert.equal(lines.contentType, 'application/x-ndjson');
    const split = lines.body.split('\n');
    assert.equal(split.length, 3);
    assert.deepEqual(JSON.parse(split[1] ?? '').data, b.event);
    assert.deepEqual(JSON.parse(split[1] ?? ''), JSON.parse(cloudEventJson(b)));
  });
});
