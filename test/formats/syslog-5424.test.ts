import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  escapeParamValue,
  facilityCode,
  formatRfc5424,
  frameNewline,
  frameOctetCounting,
  printUsAscii,
  type Rfc5424Options,
  rfc5424Timestamp,
  SYSLOG_FACILITIES,
  severityOf,
} from '../../src/formats/syslog-5424.js';
import { outboundEvent } from '../helpers/outbound-events.js';

const options: Rfc5424Options = { facility: 16, hostname: 'fs-1.example', enterpriseId: '32473' };

/**
 * A small RFC 5424 parser for the parts this encoder writes (header, one SD-ELEMENT, MSG),
 * following the ABNF of §6; used to check the encoder's output independently of syslog-ng.
 */
function parse(message: string) {
  const header = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(message);
  assert.ok(header, `no RFC 5424 header in ${message}`);
  let i = header[0].length;
  assert.equal(message[i], '[');
  i++;
  let sdId = '';
  while (message[i] !== ' ' && message[i] !== ']') sdId += message[i++];
  const params: Record<string, string> = {};
  while (message[i] === ' ') {
    i++;
    let name = '';
    while (message[i] !== '=') name += message[i++];
    assert.equal(message.slice(i, i + 2), '="');
    i += 2;
    let value = '';
    for (;;) {
      const c = message[i++];
      assert.ok(c !== undefined, 'unterminated PARAM-VALUE');
      if (c === '\\' && (message[i] === '"' || message[i] === '\\' || message[i] === ']'))
        value += message[i++];
      else if (c === '"') break;
      else {
        assert.notEqual(c, ']', 'unescaped ] inside PARAM-VALUE');
        value += c;
      }
    }
    params[name] = value;
  }
  assert.equal(message[i], ']');
  assert.equal(message[i + 1], ' ');
  const [, pri, timestamp, hostname, appName, procId, msgId] = header;
  return {
    pri: Number(pri),
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    sdId,
    params,
    msg: message.slice(i + 2),
  };
}

describe('formatRfc5424', () => {
  test('writes header, structured data and the event JSON as MSG', () => {
    const event = outboundEvent({ seq: 1, eventType: 'FLOW_START' });
    const text = formatRfc5424(event, options);
    const parsed = parse(text);
    assert.equal(parsed.pri, 16 * 8 + 6);
    assert.equal(parsed.timestamp, event.timestamp);
    assert.equal(parsed.hostname, 'fs-1.example');
    assert.equal(parsed.appName, 'flowstream');
    assert.equal(parsed.procId, '-');
    assert.equal(parsed.msgId, 'FLOW_START');
    assert.equal(parsed.sdId, 'flowstream@32473');
    assert.deepEqual(parsed.params, {
      org_id: event.orgId,
      flow_id: event.flowId,
      execution_id: event.executionId,
      idempotency_key: event.idempotencyKey,
    });
    assert.equal(parsed.msg, event.json);
    assert.ok(
      text.startsWith(
        `<134>1 ${event.timestamp} fs-1.example flowstream - FLOW_START [flowstream@32473 org_id="`,
      ),
    );
  });

  test('severity follows the event type table', () => {
    const cases: [string, Record<string, unknown>, number][] = [
      ['FLOW_START', {}, 6],
      ['FLOW_COMPLETE', {}, 6],
      ['FLOW_FAIL', { fatal: true }, 3],
      ['FLOW_FAIL', { fatal: 'TRUE' }, 3],
      ['FLOW_FAIL', {}, 3],
      ['FLOW_FAIL', { fatal: false }, 4],
      ['FLOW_FAIL', { fatal: 'false' }, 4],
      ['FLOW_RATE_LIMIT', {}, 4],
      ['FLOW_THROTTLE', {}, 4],
      ['FLOW_CANCEL', {}, 5],
      ['FLOW_PAUSE', {}, 5],
      ['SOMETHING_NEW', {}, 6],
    ];
    for (const [eventType, event, severity] of cases) {
      assert.equal(severityOf(eventType, event), severity, `${eventType} ${JSON.stringify(event)}`);
    }
  });

  test('PRI is facility * 8 + severity for every facility', () => {
    const event = outboundEvent({ seq: 3, eventType: 'FLOW_FAIL', fields: { fatal: true } });
    for (const facility of Object.values(SYSLOG_FACILITIES)) {
      assert.equal(parse(formatRfc5424(event, { ...options, facility })).pri, facility * 8 + 3);
    }
  });

  test('appName, procId, enterpriseId and the BOM are applied', () => {
    const event = outboundEvent({ seq: 2 });
    const text = formatRfc5424(event, {
      ...options,
      appName: 'wf',
      procId: '42',
      enterpriseId: '1.3.6',
      utf8Bom: true,
    });
    const parsed = parse(text);
    assert.equal(parsed.appName, 'wf');
    assert.equal(parsed.procId, '42');
    assert.equal(parsed.sdId, 'flowstream@1.3.6');
    assert.equal(parsed.msg, `\uFEFF${event.json}`);
    assert.deepEqual([...Buffer.from(parsed.msg, 'utf8').subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  test('an explicit MSG text replaces the event JSON', () => {
    const event = outboundEvent({ seq: 2 });
    assert.equal(parse(formatRfc5424(event, options, '{"x":1}')).msg, '{"x":1}');
  });

  test('header fields are cut to their RFC lengths and cleaned to PRINTUSASCII', () => {
    const event = outboundEvent({ seq: 1 });
    const text = formatRfc5424(
      { ...event, eventType: 'A_VERY_LONG_EVENT_TYPE_NAME_THAT_GOES_ON' },
      { ...options, hostname: `h${'x'.repeat(300)}`, appName: 'app name with spaces and é'.repeat(3) },
    );
    const parsed = parse(text);
    assert.equal(parsed.hostname?.length, 255);
    assert.equal(parsed.appName?.length, 48);
    assert.match(parsed.appName ?? '', /^[\x21-\x7e]+$/);
    assert.equal(parsed.msgId, 'A_VERY_LONG_EVENT_TYPE_NAME_THAT');
    assert.equal(printUsAscii('', 10), '-');
    assert.equal(printUsAscii('a b\tc', 10), 'a_b_c');
  });

  test('an unusable timestamp becomes NILVALUE; a valid one is UTC with milliseconds', () => {
    assert.equal(rfc5424Timestamp('not a date'), '-');
    assert.equal(rfc5424Timestamp(''), '-');
    assert.equal(rfc5424Timestamp('+020000-01-01T00:00:00Z'), '-');
    assert.equal(rfc5424Timestamp('2024-04-04T20:30:38.7+02:00'), '2024-04-04T18:30:38.700Z');
    assert.equal(rfc5424Timestamp('2024-04-04T18:30:38Z'), '2024-04-04T18:30:38.000Z');
    const event = outboundEvent({ seq: 1, fields: { timestamp: 'yesterday' } });
    assert.equal(parse(formatRfc5424({ ...event, timestamp: 'yesterday' }, options)).timestamp, '-');
  });

  test('PARAM-VALUEs escape ", \\ and ] and round-trip any id (property)', () => {
    assert.equal(escapeParamValue('a"b\\c]d'), 'a\\"b\\\\c\\]d');
    const base = outboundEvent({ seq: 5 });
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.string({ unit: 'grapheme' }),
        fc.string(),
        (org, flow, execution, key) => {
          const parsed = parse(
            formatRfc5424(
              { ...base, orgId: org, flowId: flow, executionId: execution, idempotencyKey: key },
              options,
            ),
          );
          assert.deepEqual(parsed.params, {
            org_id: org,
            flow_id: flow,
            execution_id: execution,
            idempotency_key: key,
          });
          assert.equal(parsed.msg, base.json);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('facilityCode', () => {
  test('takes names and codes 0..23 and nothing else', () => {
    assert.equal(facilityCode('local0'), 16);
    assert.equal(facilityCode('kern'), 0);
    assert.equal(facilityCode('local7'), 23);
    assert.equal(facilityCode(4), 4);
    assert.equal(facilityCode(24), undefined);
    assert.equal(facilityCode(-1), undefined);
    assert.equal(facilityCode(1.5), undefined);
    assert.equal(facilityCode('toString'), undefined);
    assert.equal(facilityCode('LOCAL0'), undefined);
  });
});

describe('RFC 6587 framing', () => {
  test('octet-counting prefixes the byte length (not the character count)', () => {
    const message = Buffer.from('<134>1 - - - - - - é', 'utf8');
    const framed = frameOctetCounting(message);
    assert.equal(framed.toString('utf8'), `${message.byteLength} <134>1 - - - - - - é`);
    assert.equal(message.byteLength, 21);
  });

  test('newline framing ends with LF and turns embedded CR/LF into spaces', () => {
    assert.equal(frameNewline('a\nb\r\nc').toString('utf8'), 'a b  c\n');
    fc.assert(
      fc.property(fc.string(), (text) => {
        const framed = frameNewline(text).toString('utf8');
        assert.equal(framed.indexOf('\n'), framed.length - 1);
        assert.equal(framed.length, text.length + 1);
      }),
      { numRuns: 200 },
    );
  });
});
