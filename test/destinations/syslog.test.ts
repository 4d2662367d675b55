import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type LookupFunction, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import { classifyConnectError } from '../../src/destinations/classify.js';
import type { OutboundEvent } from '../../src/destinations/destination.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  resolveSyslogSettings,
  type SyslogSettings,
  SyslogSettingsSchema,
  syslogDestination,
} from '../../src/destinations/syslog.js';
import { cloudEventType } from '../../src/formats/cloudevents.js';
import { singleLineJson } from '../../src/formats/json-framing.js';
import { severityOf } from '../../src/formats/syslog-5424.js';
import { type NetworkPolicy, openNetworkPolicy } from '../../src/net/network-policy.js';
import { destinationContext, sendOnce } from '../helpers/destination-context.js';
import { outboundEvent, outboundEvents } from '../helpers/outbound-events.js';
import { makeTestPki, type TestPki } from '../integration/certificates.js';
import { delay, freeTcpPorts, integrationSkip } from '../integration/daemon.js';
import { idempotencyKeyOf, SyslogNg, type SyslogNgRecord } from '../integration/syslog-ng.js';

const network = openNetworkPolicy();
const _logger = pino({ level: 'silent' });
const live = new AbortController().signal;
const HOSTNAME = 'flowstream-test-1';

/** Events with seq numbers no other test uses, so each test finds its own in syslog-ng's output. */
let nextSeq = 1000;
function freshEvents(count: number): OutboundEvent[] {
  const events = outboundEvents(count, nextSeq);
  nextSeq += count;
  return events;
}

/** Asserts what syslog-ng parsed out of the message flowstream sent for `event`. */
function assertParsed(
  record: SyslogNgRecord,
  event: OutboundEvent,
  facility = 16,
  enterpriseId = '32473',
): void {
  const severity = severityOf(event.eventType, event.event);
  assert.equal(record.PRI, facility * 8 + severity, `PRI of ${event.eventType}`);
  assert.equal(record.FACILITY_NUM, facility);
  assert.equal(record.SEVERITY_NUM, severity);
  assert.equal(record.HOST, HOSTNAME);
  assert.equal(record.PROGRAM, 'flowstream');
  assert.equal(record.MSGID, event.eventType);
  assert.equal(Date.parse(record.ISODATE), Date.parse(event.timestamp));
  assert.match(record.ISODATE, /\.\d{3}/, 'milliseconds kept');
  assert.deepEqual(record._SDATA?.[`flowstream@${enterpriseId}`], {
    org_id: event.orgId,
    flow_id: event.flowId,
    execution_id: event.executionId,
    idempotency_key: event.idempotencyKey,
  });
  assert.equal(record.MESSAGE, singleLineJson(event.json));
  assert.equal(record._json?.idempotency_key, event.idempotencyKey);
  assert.equal(record._json?.event_type, event.eventType);
  assert.equal(record._json?.org_name, 'logstream-01');
}

function byKey(records: readonly SyslogNgRecord[]): Map<string, SyslogNgRecord> {
  return new Map(records.map((r) => [idempotencyKeyOf(r), r]));
}

describe('syslog settings', () => {
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(SyslogSettingsSchema);

  test('the schema takes the documented settings and refuses unknown keys', () => {
    assert.ok(
      validate({
        host: 'siem.example',
        port: 6514,
        transport: 'tls',
        tls: { ca: 'PEM', rejectUnauthorized: true },
      }),
    );
    assert.ok(validate({ host: 'siem.example', facility: 'local4', framing: 'newline', confirm: 'close' }));
    assert.ok(validate({ host: 'siem.example', facility: 13, transport: 'udp', maxMessageBytes: 65_000 }));
    assert.ok(!validate({ host: 'siem.example', colour: 'blue' }));
    assert.ok(!validate({ host: 'siem.example', tls: { ca: 'PEM', verify: false } }));
    assert.ok(!validate({ host: 'siem.example', facility: 'local8' }));
    assert.ok(!validate({ host: 'siem.example', facility: 24 }));
    assert.ok(!validate({ host: 'siem.example', appName: 'has space' }));
    assert.ok(!validate({ host: 'siem.example', appName: 'x'.repeat(49) }));
    assert.ok(!validate({ host: 'siem.example', enterpriseId: 'acme' }));
    assert.ok(!validate({ host: 'siem.example', transport: 'relp' }));
    assert.ok(!validate({ port: 514 }));
  });

  test('the private key is the secret setting; the host is the target', () => {
    assert.deepEqual(syslogDestination.secretSettings, ['/tls/key']);
    assert.deepEqual(syslogDestination.targets({ host: 'siem.example' }), ['siem.example']);
  });

  test('defaults: tcp, port 514 (6514 for tls), octet-counting, local0, confirm write, 8 KiB', () => {
    const tcp = resolveSyslogSettings({ host: 'h' });
    assert.ok(typeof tcp !== 'string');
    assert.equal(tcp.transport, 'tcp');
    assert.equal(tcp.port, 514);
    assert.equal(tcp.framing, 'octet-counting');
    assert.equal(tcp.confirm, 'write');
    assert.equal(tcp.message.facility, 16);
    assert.equal(tcp.message.appName, 'flowstream');
    assert.equal(tcp.message.enterpriseId, '32473');
    assert.equal(tcp.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
    const tls = resolveSyslogSettings({ host: 'h', transport: 'tls' });
    assert.ok(typeof tls !== 'string');
    assert.equal(tls.port, 6514);
  });

  test('combinations that make no sense are refused as fatal, without touching the network', async () => {
    const refused: [SyslogSettings, RegExp][] = [
      [{ host: '127.0.0.1', transport: 'tcp', tls: { ca: 'x' } }, /tls applies only to transport: tls/],
      [{ host: '127.0.0.1', transport: 'udp', framing: 'newline' }, /framing applies only/],
      [{ host: '127.0.0.1', transport: 'udp', confirm: 'close' }, /confirm applies only/],
      [{ host: '127.0.0.1', transport: 'udp', maxMessageBytes: 70_000 }, /at most 65507/],
      [{ host: '127.0.0.1', transport: 'tls', tls: { cert: 'x' } }, /cert and settings.tls.key go together/],
    ];
    for (const [settings, message] of refused) {
      const result = await sendOnce(syslogDestination, settings, outboundEvents(1));
      assert.equal(result.outcome, 'fatal');
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'SYSLOG_BAD_SETTINGS');
      assert.match(result.error.message, message);
    }
  });
});

describe('syslog failures without a receiver', () => {
  test('connection refused is retryable', async () => {
    const [port] = await freeTcpPorts(1);
    const result = await sendOnce(
      syslogDestination,
      { host: '127.0.0.1', port: port as number },
      outboundEvents(2),
    );
    assert.equal(result.outcome, 'retryable');
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'ECONNREFUSED');
  });

  test('an address the network policy forbids is fatal, and nothing connects', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const forbidden: LookupFunction = (hostname, _options, callback) => {
      const err = Object.assign(new Error(`${hostname} resolves to a private address`), {
        name: 'ForbiddenDestinationError',
        code: 'ERR_FORBIDDEN_DESTINATION',
      });
      callback(err, [] as LookupAddress[]);
    };
    const policy: NetworkPolicy = { ...network, allowPrivateNetworks: false, lookup: forbidden };
    try {
      for (const transport of ['tcp', 'udp'] as const) {
        const destination = syslogDestination.create(
          { host: 'localhost', port, transport },
          destinationContext('syslog', 'okta', 5000, policy),
        );
        const result = await destination.send(outboundEvents(1), live);
        await destination.close();
        assert.equal(result.outcome, 'fatal', transport);
        assert.ok(result.outcome === 'fatal');
        assert.equal(result.error.code, 'ERR_FORBIDDEN_DESTINATION');
      }
      assert.equal(connections, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('confirm: close times out (retryable) when the receiver never closes its side', async () => {
    const sockets: Socket[] = [];
    // allowHalfOpen: it reads our FIN but never sends its own.
    const silent = createServer({ allowHalfOpen: true }, (socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const result = await sendOnce(
        syslogDestination,
        { host: '127.0.0.1', port, confirm: 'close' },
        outboundEvents(3),
        'okta',
        300,
      );
      assert.equal(result.outcome, 'retryable');
      assert.ok(result.outcome === 'retryable');
      assert.equal(result.error.code, 'TIMEOUT');
      assert.ok(Date.now() - started < 5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('confirm: close is retryable when the receiver resets instead of closing', async () => {
    const server = createServer((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const result = await sendOnce(
        syslogDestination,
        { host: '127.0.0.1', port, confirm: 'close' },
        outboundEvents(3),
      );
      assert.equal(result.outcome, 'retryable');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('TLS errors are fatal; network errors retryable (classification table)', () => {
    const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });
    assert.equal(classifyConnectError(withCode('ECONNRESET')).outcome, 'retryable');
    assert.equal(classifyConnectError(withCode('ETIMEDOUT')).outcome, 'retryable');
    assert.equal(classifyConnectError(withCode('ENOTFOUND')).outcome, 'retryable');
    assert.equal(classifyConnectError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT')).outcome, 'fatal');
    assert.equal(classifyConnectError(withCode('ERR_TLS_CERT_ALTNAME_INVALID')).outcome, 'fatal');
    const alert = classifyConnectError(
      withCode('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'long openssl trace'),
    );
    assert.deepEqual(alert, {
      outcome: 'fatal',
      error: {
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        message: 'TLS handshake failed: tlsv13 alert certificate required',
      },
    });
  });

  test('close is idempotent and a send after it is retryable', async () => {
    const destination = syslogDestination.create(
      { host: '127.0.0.1', port: 9 },
      destinationContext('syslog'),
    );
    await destination.close();
    await destination.close();
    const result = await destination.send(outboundEvents(1), live);
    assert.equal(result.outcome, 'retryable');
  });
});

describe('syslog against a real syslog-ng', { skip: integrationSkip() }, () => {
  let dir: string;
  let pki: TestPki;
  let syslogNg: SyslogNg;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-syslog-'));
    pki = await makeTestPki(dir);
    syslogNg = await SyslogNg.start({
      dir,
      tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, caFile: pki.caCertPath },
    });
  });

  after(async () => {
    await syslogNg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const base = (): Pick<SyslogSettings, 'host' | 'hostname'> => ({ host: '127.0.0.1', hostname: HOSTNAME });
  const tlsPort = (): number => syslogNg.ports.tls ?? assert.fail('syslog-ng runs without TLS');
  const mtlsPort = (): number => syslogNg.ports.mtls ?? assert.fail('syslog-ng runs without TLS');

  test('tcp, octet-counting: syslog-ng parses PRI, header, structured data and the JSON MSG of every event type', async () => {
    const events = freshEvents(14);
    const result = await sendOnce(syslogDestination, { ...base(), port: syslogNg.ports.octet }, events);
    assert.deepEqual(result, {
      outcome: 'delivered',
      bytes: events.reduce((n, e) => n + Buffer.byteLength(e.json), 0),
    });
    const records = byKey(
      await syslogNg.waitForKeys(
        's_octet',
        events.map((e) => e.idempotencyKey),
      ),
    );
    for (const event of events) assertParsed(records.get(event.idempotencyKey) as SyslogNgRecord, event);
    const fail = events.find((e) => e.eventType === 'FLOW_FAIL') as OutboundEvent;
    assert.equal(records.get(fail.idempotencyKey)?.PRIORITY, fail.event.fatal === false ? 'warning' : 'err');
  });

  test('tcp, newline framing: a pretty-printed event arrives as one message; facility and names as set', async () => {
    const events = [
      outboundEvent({
        seq: nextSeq++,
        eventType: 'FLOW_FAIL',
        indent: 2,
        fields: { fatal: true, error_message: 'a\nb "c"' },
      }),
      outboundEvent({ seq: nextSeq++, eventType: 'FLOW_PAUSE', indent: 2 }),
    ];
    assert.ok(events[0]?.json.includes('\n'));
    const result = await sendOnce(
      syslogDestination,
      {
        ...base(),
        port: syslogNg.ports.newline,
        framing: 'newline',
        facility: 'auth',
        enterpriseId: '32473.7',
      },
      events,
    );
    assert.equal(result.outcome, 'delivered');
    const records = byKey(
      await syslogNg.waitForKeys(
        's_newline',
        events.map((e) => e.idempotencyKey),
      ),
    );
    assert.equal(records.size, 2);
    for (const event of events) {
      const record = records.get(event.idempotencyKey) as SyslogNgRecord;
      assertParsed(record, event, 4, '32473.7');
      assert.equal(record.FACILITY, 'auth');
    }
    assert.equal(records.get(events[0]?.idempotencyKey ?? '')?._json?.error_message, 'a\nb "c"');
    assert.equal(records.get(events[0]?.idempotencyKey ?? '')?.PRIORITY, 'err');
    assert.equal(records.get(events[1]?.idempotencyKey ?? '')?.PRIORITY, 'notice');
  });

  test('udp: one datagram per event, parsed by syslog-ng', async () => {
    const events = freshEvents(7);
    const result = await sendOnce(
      syslogDestination,
      { ...base(), port: syslogNg.ports.udp, transport: 'udp', facility: 23 },
      events,
    );
    assert.equal(result.outcome, 'delivered');
    const records = byKey(
      await syslogNg.waitForKeys(
        's_udp',
        events.map((e) => e.idempotencyKey),
      ),
    );
    for (const event of events) assertParsed(records.get(event.idempotencyKey) as SyslogNgRecord, event, 23);
  });

  test('an event larger than maxMessageBytes is refused, never truncated; the others are delivered', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const [small1, small2] = freshEvents(2) as [OutboundEvent, OutboundEvent];
      const big = outboundEvent({ seq: nextSeq++, fields: { error_message: 'x'.repeat(3000) } });
      const port = transport === 'udp' ? syslogNg.ports.udp : syslogNg.ports.octet;
      const settings: SyslogSettings = { ...base(), port, transport, maxMessageBytes: 2048 };
      const result = await sendOnce(syslogDestination, settings, [small1, big, small2]);
      assert.equal(result.outcome, 'partial', transport);
      assert.ok(result.outcome === 'partial');
      assert.deepEqual(
        result.items.map((i) => i.outcome),
        ['delivered', 'rejected', 'delivered'],
      );
      const rejected = result.items[1];
      assert.ok(rejected?.outcome === 'rejected');
      assert.equal(rejected.error.code, 'SYSLOG_MESSAGE_TOO_LARGE');
      assert.match(rejected.error.message, /more than maxMessageBytes \(2048\)/);
      assert.equal(result.bytes, Buffer.byteLength(small1.json) + Buffer.byteLength(small2.json));

      const alone = await sendOnce(syslogDestination, settings, [big]);
      assert.equal(alone.outcome, 'rejected');

      const source = transport === 'udp' ? 's_udp' : 's_octet';
      await syslogNg.waitForKeys(source, [small1.idempotencyKey, small2.idempotencyKey]);
      await delay(200);
      const all = await syslogNg.records();
      assert.ok(
        !all.some((r) => idempotencyKeyOf(r) === big.idempotencyKey),
        `${transport}: no part of the big event`,
      );
    }
  });

  test('the runner is told the byte limit (maxEventBytes)', () => {
    const destination = syslogDestination.create(
      { host: '127.0.0.1', transport: 'udp', maxMessageBytes: 60_000 },
      destinationContext('syslog'),
    );
    assert.equal(destination.maxEventBytes, 60_000);
    assert.equal(
      syslogDestination.create({ host: '127.0.0.1' }, destinationContext('syslog')).maxEventBytes,
      8192,
    );
  });

  test('tls: verified against the given CA; SNI and name checks on', async () => {
    const events = freshEvents(3);
    const result = await sendOnce(
      syslogDestination,
      { ...base(), host: 'localhost', port: tlsPort(), transport: 'tls', tls: { ca: pki.caCert } },
      events,
    );
    assert.equal(result.outcome, 'delivered');
    const records = byKey(
      await syslogNg.waitForKeys(
        's_tls',
        events.map((e) => e.idempotencyKey),
      ),
    );
    for (const event of events) assertParsed(records.get(event.idempotencyKey) as SyslogNgRecord, event);
  });

  test('tls: a receiver certificate from another CA, or for another name, is fatal and nothing is sent', async () => {
    const events = freshEvents(2);
    const wrongCa = await sendOnce(
      syslogDestination,
      {
        ...base(),
        host: 'localhost',
        port: tlsPort(),
        transport: 'tls',
        tls: { ca: pki.otherCaCert },
      },
      events,
    );
    assert.equal(wrongCa.outcome, 'fatal');
    assert.ok(wrongCa.outcome === 'fatal');
    assert.equal(wrongCa.error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    const systemStore = await sendOnce(
      syslogDestination,
      { ...base(), host: 'localhost', port: tlsPort(), transport: 'tls' },
      events,
    );
    assert.equal(systemStore.outcome, 'fatal');

    const wrongName = await sendOnce(
      syslogDestination,
      {
        ...base(),
        port: tlsPort(),
        transport: 'tls',
        tls: { ca: pki.caCert, servername: 'siem.example.org' },
      },
      events,
    );
    assert.equal(wrongName.outcome, 'fatal');
    assert.ok(wrongName.outcome === 'fatal');
    assert.equal(wrongName.error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');

    await delay(300);
    const keys = new Set(events.map((e) => e.idempotencyKey));
    assert.ok(!(await syslogNg.records()).some((r) => keys.has(idempotencyKeyOf(r))));
  });

  test('mutual tls: with the client certificate delivered; without it fatal, not silently lost', async () => {
    const settings = (withCert: boolean): SyslogSettings => ({
      ...base(),
      host: 'localhost',
      port: mtlsPort(),
      transport: 'tls',
      tls: withCert ? { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } : { ca: pki.caCert },
    });
    const refused = freshEvents(3);
    for (const confirm of ['write', 'close'] as const) {
      const result = await sendOnce(syslogDestination, { ...settings(false), confirm }, refused);
      assert.equal(result.outcome, 'fatal', confirm);
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    }
    const events = freshEvents(3);
    assert.equal((await sendOnce(syslogDestination, settings(true), events)).outcome, 'delivered');
    await syslogNg.waitForKeys(
      's_mtls',
      events.map((e) => e.idempotencyKey),
    );
    const keys = new Set(refused.map((e) => e.idempotencyKey));
    assert.ok(!(await syslogNg.records()).some((r) => keys.has(idempotencyKeyOf(r))));
  });

  test('confirm: close delivers over tcp and tls', async () => {
    const tcpEvents = freshEvents(5);
    const tlsEvents = freshEvents(5);
    assert.equal(
      (
        await sendOnce(
          syslogDestination,
          { ...base(), port: syslogNg.ports.octet, confirm: 'close' },
          tcpEvents,
        )
      ).outcome,
      'delivered',
    );
    assert.equal(
      (
        await sendOnce(
          syslogDestination,
          {
            ...base(),
            host: 'localhost',
            port: tlsPort(),
            transport: 'tls',
            confirm: 'close',
            tls: { ca: pki.caCert },
          },
          tlsEvents,
        )
      ).outcome,
      'delivered',
    );
    await syslogNg.waitForKeys(
      's_octet',
      tcpEvents.map((e) => e.idempotencyKey),
    );
    await syslogNg.waitForKeys(
      's_tls',
      tlsEvents.map((e) => e.idempotencyKey),
    );
  });

  test('ids with ", \\ and ] survive the structured data', async () => {
    const event = outboundEvent({ seq: nextSeq++, eventType: 'FLOW_COMPLETE' });
    const hostile: OutboundEvent = {
      ...event,
      orgId: 'org "quoted" \\ back]slash',
      flowId: 'flow]]',
      executionId: 'ünïcødé-exécution',
    };
    assert.equal(
      (await sendOnce(syslogDestination, { ...base(), port: syslogNg.ports.octet }, [hostile])).outcome,
      'delivered',
    );
    const [record] = await syslogNg.waitForKeys('s_octet', [event.idempotencyKey]);
    assert.deepEqual(record?._SDATA?.['flowstream@32473'], {
      org_id: hostile.orgId,
      flow_id: hostile.flowId,
      execution_id: hostile.executionId,
      idempotency_key: event.idempotencyKey,
    });
  });

  test('utf8Bom: syslog-ng takes MSG-UTF8 and still parses the JSON', async () => {
    const event = outboundEvent({ seq: nextSeq++, fields: { flow_name: 'Flüsse – ☃' } });
    assert.equal(
      (await sendOnce(syslogDestination, { ...base(), port: syslogNg.ports.octet, utf8Bom: true }, [event]))
        .outcome,
      'delivered',
    );
    const [record] = await syslogNg.waitForKeys('s_octet', [event.idempotencyKey]);
    assert.equal(record?._json?.flow_name, 'Flüsse – ☃');
    assert.equal(record?._json?.idempotency_key, event.idempotencyKey);
  });

  test('format cloudevents: MSG is the CloudEvents envelope', async () => {
    const events = freshEvents(2);
    assert.equal(
      (await sendOnce(syslogDestination, { ...base(), port: syslogNg.ports.octet }, events, 'cloudevents'))
        .outcome,
      'delivered',
    );
    const records = byKey(
      await syslogNg.waitForKeys(
        's_octet',
        events.map((e) => e.idempotencyKey),
      ),
    );
    for (const event of events) {
      const json = records.get(event.idempotencyKey)?._json as Record<string, unknown>;
      assert.equal(json.specversion, '1.0');
      assert.equal(json.id, event.idempotencyKey);
      assert.equal(json.type, cloudEventType(event.eventType));
    }
  });

  test('persistent connection: one connection carries many batches', async () => {
    const destination = syslogDestination.create(
      { ...base(), port: syslogNg.ports.octet },
      destinationContext('syslog'),
    );
    const keys: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const events = freshEvents(20);
        keys.push(...events.map((e) => e.idempotencyKey));
        assert.equal((await destination.send(events, live)).outcome, 'delivered');
      }
    } finally {
      await destination.close();
    }
    await syslogNg.waitForKeys('s_octet', keys);
  });

  test('concurrent sends on one destination do not interleave messages', async () => {
    const destination = syslogDestination.create(
      { ...base(), port: syslogNg.ports.newline, framing: 'newline' },
      destinationContext('syslog'),
    );
    const batches = [freshEvents(50), freshEvents(50), freshEvents(50)];
    try {
      const results = await Promise.all(batches.map((batch) => destination.send(batch, live)));
      assert.deepEqual(
        results.map((r) => r.outcome),
        ['delivered', 'delivered', 'delivered'],
      );
    } finally {
      await destination.close();
    }
    const records = await syslogNg.waitForKeys(
      's_newline',
      batches.flat().map((e) => e.idempotencyKey),
    );
    assert.equal(records.length, 150);
    for (const record of records) assert.equal(typeof record._json?.idempotency_key, 'string');
  });
});

describe('syslog-ng restarted mid-stream', { skip: integrationSkip() }, () => {
  let dir: string;
  let syslogNg: SyslogNg;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-syslog-restart-'));
    syslogNg = await SyslogNg.start({ dir });
  });

  after(async () => {
    await syslogNg?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A runner-like loop: sends batch after batch, retrying a batch that was not delivered. While it
   * runs, syslog-ng is stopped (after it has written out everything acknowledged so far, so that
   * its own in-memory loss at shutdown does not count) and started again on the same port. The
   * destination must notice the dead connection rather than report batches delivered into it,
   * reconnect by itself, and in the end every acknowledged event must be in syslog-ng's output.
   */
  for (const confirm of ['write', 'close'] as const) {
    test(`confirm: ${confirm} — nothing acknowledged is missing after the restart`, async () => {
      const destination = syslogDestination.create(
        { host: '127.0.0.1', port: syslogNg.ports.octet, hostname: HOSTNAME, confirm },
        destinationContext('syslog', 'okta', 2000),
      );
      const acknowledged: string[] = [];
      let failuresWhileDown = 0;
      let deliveredWhileDown = 0;
      let down = false;
      let gate: Promise<void> = Promise.resolve();
      /** Resolved by the loop when it waits at a closed gate (no send in flight). */
      let parked: () => void = () => {};
      let stopLoop = false;

      const loop = (async () => {
        for (let batchNo = 0; batchNo < 40 && !stopLoop; batchNo++) {
          const batch = freshEvents(10);
          for (;;) {
            parked();
            await gate;
            const result = await destination.send(batch, live);
            if (result.outcome === 'delivered') {
              if (down) deliveredWhileDown++;
              acknowledged.push(...batch.map((e) => e.idempotencyKey));
              break;
            }
            assert.equal(result.outcome, 'retryable', JSON.stringify(result));
            if (down) failuresWhileDown++;
            await delay(25);
          }
          await delay(5);
        }
      })();

      try {
        await delay(150);
        // Hold the loop between batches, let syslog-ng write out what it acknowledged, stop it.
        let release: () => void = () => {};
        const isParked = new Promise<void>((resolve) => {
          parked = resolve;
        });
        gate = new Promise((resolve) => {
          release = resolve;
        });
        await isParked;
        parked = () => {};
        assert.ok(acknowledged.length > 0, 'some batches went through before the restart');
        assert.ok(acknowledged.length < 400, 'the restart happens mid-stream');
        await syslogNg.waitForKeys('s_octet', [...acknowledged]);
        await syslogNg.stop();
        down = true;
        release();
        await delay(300);
        down = false;
        await syslogNg.start();
        await loop;
      } finally {
        stopLoop = true;
        await loop.catch(() => undefined);
        await destination.close();
      }

      assert.equal(deliveredWhileDown, 0, 'nothing is acknowledged while syslog-ng is down');
      assert.ok(failuresWhileDown > 0, 'sends failed while syslog-ng was down');
      assert.equal(acknowledged.length, 400);
      const received = await syslogNg.waitForKeys('s_octet', acknowledged, 15_000);
      assert.equal(new Set(received.map(idempotencyKeyOf)).size, 400);
    });
  }
});
