import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type LookupFunction, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type Msg, type NatsConnection, nkeys } from '@nats-io/transport-node';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { pino } from 'pino';
import type { OutboundEvent, SendResult } from '../../src/destinations/destination.js';
import {
  classifyNatsError,
  DEFAULT_SUBJECT,
  MSG_ID_HEADER,
  type NatsSettings,
  NatsSettingsSchema,
  natsDestination,
  parseServer,
  renderSubject,
  resolveNatsSettings,
  subjectTemplateProblem,
  subjectToken,
} from '../../src/destinations/nats.js';
import { cloudEventType } from '../../src/formats/cloudevents.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import { destinationContext, sendOnce } from '../helpers/destination-context.js';
import { outboundEvent, outboundEvents } from '../helpers/outbound-events.js';
import { makeTestPki, type TestPki } from '../integration/certificates.js';
import { delay, freeTcpPorts, integrationSkip } from '../integration/daemon.js';
import { NatsServer } from '../integration/nats-server.js';

const network = openNetworkPolicy();
const _logger = pino({ level: 'silent' });
const live = new AbortController().signal;

let nextSeq = 5000;
function freshEvents(count: number): OutboundEvent[] {
  const events = outboundEvents(count, nextSeq);
  nextSeq += count;
  return events;
}

/** Collects what a subscriber on `subject` receives until `count` messages arrived. */
async function collect(
  nc: NatsConnection,
  subject: string,
  count: number,
  run: () => Promise<void>,
): Promise<Msg[]> {
  const sub = nc.subscribe(subject, { max: count, timeout: 10_000 });
  await nc.flush();
  const received: Msg[] = [];
  const done = (async () => {
    for await (const msg of sub) received.push(msg);
  })();
  await run();
  await done;
  return received;
}

describe('nats settings', () => {
  const validate = new Ajv({ allErrors: true }).compile(NatsSettingsSchema);

  test('the schema takes the documented settings and refuses unknown keys', () => {
    assert.ok(validate({ servers: 'nats://127.0.0.1:4222', jetstream: true, token: 't' }));
    assert.ok(validate({ servers: ['tls://nats.example:4443', 'nats-2.example'], user: 'u', password: 'p' }));
    assert.ok(validate({ servers: '[::1]:4222', subject: 'audit.{org_id}.{flow_id}.{event_type}' }));
    assert.ok(
      validate({
        servers: 'h',
        nkeySeed: `SU${'A'.repeat(56)}`,
        tls: { ca: 'PEM', rejectUnauthorized: true },
      }),
    );
    assert.ok(!validate({ servers: 'h', colour: 'blue' }));
    assert.ok(!validate({ servers: 'http://h:4222' }));
    assert.ok(!validate({ servers: [] }));
    assert.ok(!validate({ servers: 'h', subject: 'flowstream.*' }));
    assert.ok(!validate({ servers: 'h', subject: 'flowstream.>' }));
    assert.ok(!validate({ servers: 'h', subject: 'has space' }));
    assert.ok(!validate({ servers: 'h', tls: { verify: false } }));
    assert.ok(!validate({ subject: 'x' }));
  });

  test('secrets and targets', () => {
    assert.deepEqual(natsDestination.secretSettings, ['/token', '/password', '/nkeySeed', '/tls/key']);
    assert.deepEqual(natsDestination.targets({ servers: ['tls://a.example:4443', '[::1]:4222', 'b'] }), [
      'a.example',
      '::1',
      'b',
    ]);
  });

  test('servers parse with their default port and scheme', () => {
    assert.deepEqual(parseServer('h'), { host: 'h', port: 4222, tls: false });
    assert.deepEqual(parseServer('nats://10.0.0.1:4333'), { host: '10.0.0.1', port: 4333, tls: false });
    assert.deepEqual(parseServer('tls://n.example'), { host: 'n.example', port: 4222, tls: true });
    assert.deepEqual(parseServer('[fe80::1]:5'), { host: 'fe80::1', port: 5, tls: false });
    assert.equal(parseServer('h:70000'), undefined);
    assert.equal(parseServer('ws://h'), undefined);
  });

  test('subject templates: placeholders known, tokens never empty, no wildcards', () => {
    assert.equal(subjectTemplateProblem(DEFAULT_SUBJECT), undefined);
    assert.equal(subjectTemplateProblem('a.{execution_id}-x.{flow_id}'), undefined);
    assert.match(subjectTemplateProblem('a.{user_id}') ?? '', /unknown placeholder \{user_id\}/);
    assert.match(subjectTemplateProblem('a..b') ?? '', /empty token/);
    assert.match(subjectTemplateProblem('.a') ?? '', /empty token/);
    assert.match(subjectTemplateProblem('a.*') ?? '', /wildcards/);
    assert.match(subjectTemplateProblem('a.{org_id') ?? '', /braces/);
  });

  test('rendered subjects: each value is one safe token, whatever it holds (property)', () => {
    const base = outboundEvent({ seq: 1 });
    assert.equal(renderSubject(DEFAULT_SUBJECT, base), `flowstream.${base.orgId}.FLOW_START`);
    assert.equal(subjectToken('a.b c*>d'), 'a_b_c__d');
    assert.equal(subjectToken(''), '_');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (org, flow) => {
        const subject = renderSubject('x.{org_id}.{flow_id}.{event_type}', {
          ...base,
          orgId: org,
          flowId: flow,
        });
        const tokens = subject.split('.');
        assert.equal(tokens.length, 4);
        for (const token of tokens) assert.match(token, /^[A-Za-z0-9_-]+$/);
      }),
      { numRuns: 300 },
    );
  });

  test('alternatives and pairs are checked; a refused combination is fatal without touching the network', async () => {
    const cases: [NatsSettings, RegExp][] = [
      [{ servers: '127.0.0.1', token: 't', user: 'u', password: 'p' }, /alternatives/],
      [{ servers: '127.0.0.1', user: 'u' }, /user and settings.password go together/],
      [{ servers: '127.0.0.1', subject: 'a.{nope}' }, /unknown placeholder/],
      [{ servers: '127.0.0.1', tls: { key: 'k' } }, /cert and settings.tls.key go together/],
    ];
    for (const [settings, message] of cases) {
      assert.match(String(resolveNatsSettings(settings)), message);
      const result = await sendOnce(natsDestination, settings, outboundEvents(1));
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'NATS_BAD_SETTINGS');
    }
  });

  test('error classification table', () => {
    const named = (name: string, message = name, extra: Record<string, unknown> = {}): Error =>
      Object.assign(new Error(message), { name, ...extra });
    assert.equal(classifyNatsError(named('AuthorizationError', 'Authorization Violation')).outcome, 'fatal');
    assert.equal(classifyNatsError(named('JetStreamNotEnabled')).outcome, 'fatal');
    assert.equal(classifyNatsError(named('TimeoutError')).outcome, 'retryable');
    assert.equal(classifyNatsError(named('ClosedConnectionError')).outcome, 'retryable');
    assert.equal(
      classifyNatsError(named('InvalidArgumentError', "'payload' max_payload size exceeded")).outcome,
      'rejected',
    );
    assert.equal(
      classifyNatsError(named('JetStreamApiError', 'too big', { code: 10054 })).outcome,
      'rejected',
    );
    assert.equal(
      classifyNatsError(named('JetStreamApiError', 'store failed', { code: 10077 })).outcome,
      'retryable',
    );
    assert.equal(
      classifyNatsError(Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).outcome,
      'fatal',
    );
    assert.equal(
      classifyNatsError(
        named('ConnectionError', 'connection refused', {
          cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }),
        }),
      ).outcome,
      'retryable',
    );
  });
});

describe('nats failures without a server', () => {
  test('connection refused is retryable', async () => {
    const [port] = await freeTcpPorts(1);
    const result = await sendOnce(natsDestination, { servers: `127.0.0.1:${port}` }, outboundEvents(1));
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'ECONNREFUSED');
  });

  test('a server that never speaks NATS times out (retryable)', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const result = await sendOnce(
        natsDestination,
        { servers: `127.0.0.1:${port}` },
        outboundEvents(1),
        'okta',
        400,
      );
      assert.ok(result.outcome === 'retryable');
      assert.equal(result.error.code, 'TIMEOUT');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a host the network policy forbids is fatal, and nothing connects', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const forbidden: LookupFunction = (hostname, _options, callback) => {
      const err = Object.assign(new Error(`${hostname} is a private address`), {
        name: 'ForbiddenDestinationError',
        code: 'ERR_FORBIDDEN_DESTINATION',
      });
      callback(err, [] as LookupAddress[]);
    };
    try {
      const destination = natsDestination.create(
        { servers: `nats://127.0.0.1:${port}` },
        destinationContext('nats', 'okta', 5000, {
          ...network,
          allowPrivateNetworks: false,
          lookup: forbidden,
        }),
      );
      const result = await destination.send(outboundEvents(1), live);
      await destination.close();
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'ERR_FORBIDDEN_DESTINATION');
      assert.equal(connections, 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('host names are resolved through the policy lookup, and the client dials what it returned', async () => {
    const looked: string[] = [];
    const [port] = await freeTcpPorts(1);
    const recording: LookupFunction = (hostname, options, callback) => {
      looked.push(hostname);
      network.lookup('127.0.0.1', options, callback);
    };
    const destination = natsDestination.create(
      { servers: [`nats.invalid:${port}`] },
      destinationContext('nats', 'okta', 5000, { ...network, lookup: recording }),
    );
    const result = await destination.send(outboundEvents(1), live);
    await destination.close();
    assert.deepEqual(looked, ['nats.invalid']);
    // nats.invalid does not exist in DNS: the refusal proves the client dialed 127.0.0.1.
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'ECONNREFUSED');
  });
});

describe('nats against a real nats-server', { skip: integrationSkip() }, () => {
  let dir: string;
  let server: NatsServer;
  let observer: NatsConnection;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-nats-'));
    server = await NatsServer.start({ dir });
    observer = await connect({ servers: server.url });
    const jsm = await jetstreamManager(observer);
    await jsm.streams.add({
      name: 'FLOWSTREAM',
      subjects: ['flowstream.>'],
      duplicate_window: 60_000_000_000,
      max_msg_size: 8192,
    });
  });

  after(async () => {
    await observer?.close();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const streamCount = async (): Promise<number> => {
    const jsm = await jetstreamManager(observer);
    return (await jsm.streams.info('FLOWSTREAM')).state.messages;
  };

  test('core NATS: a subscriber receives each event on its templated subject, verbatim', async () => {
    const events = freshEvents(7);
    let result: SendResult | undefined;
    const received = await collect(observer, 'flowstream.>', 7, async () => {
      result = await sendOnce(natsDestination, { servers: server.url }, events);
    });
    assert.equal(result?.outcome, 'delivered');
    assert.equal(received.length, 7);
    for (const [i, event] of events.entries()) {
      const msg = received[i] as Msg;
      assert.equal(msg.subject, `flowstream.${event.orgId}.${event.eventType}`);
      assert.equal(msg.string(), event.json);
      assert.equal(msg.headers?.get(MSG_ID_HEADER), event.idempotencyKey);
    }
  });

  test('core NATS: ids with dots, spaces and wildcards stay inside one token', async () => {
    const event = outboundEvent({ seq: nextSeq++, eventType: 'FLOW_FAIL' });
    const hostile = { ...event, orgId: 'org.with spaces*and>', executionId: '' };
    const received = await collect(observer, 'custom.>', 1, async () => {
      const result = await sendOnce(
        natsDestination,
        { servers: server.url, subject: 'custom.{org_id}.{execution_id}.{event_type}' },
        [hostile],
      );
      assert.equal(result.outcome, 'delivered');
    });
    assert.equal(received[0]?.subject, 'custom.org_with_spaces_and_._.FLOW_FAIL');
  });

  test('a server that does not resolve is skipped when another one does', async () => {
    const lookup: LookupFunction = (hostname, options, callback) => {
      if (hostname === 'down.example') {
        callback(Object.assign(new Error('getaddrinfo ENOTFOUND down.example'), { code: 'ENOTFOUND' }), []);
      } else {
        network.lookup('127.0.0.1', options, callback);
      }
    };
    const destination = natsDestination.create(
      { servers: [`down.example:${server.port}`, `up.example:${server.port}`] },
      destinationContext('nats', 'okta', 5000, { ...network, lookup }),
    );
    try {
      assert.equal((await destination.send(freshEvents(1), live)).outcome, 'delivered');
    } finally {
      await destination.close();
    }
    const alone = natsDestination.create(
      { servers: `down.example:${server.port}` },
      destinationContext('nats', 'okta', 5000, { ...network, lookup }),
    );
    const result = await alone.send(freshEvents(1), live);
    await alone.close();
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'ENOTFOUND');
  });

  test('format cloudevents: the payload is the CloudEvents envelope', async () => {
    const [event] = freshEvents(1) as [OutboundEvent];
    const received = await collect(observer, 'ce.>', 1, async () => {
      assert.equal(
        (
          await sendOnce(
            natsDestination,
            { servers: server.url, subject: 'ce.{event_type}' },
            [event],
            'cloudevents',
          )
        ).outcome,
        'delivered',
      );
    });
    const envelope = received[0]?.json<Record<string, unknown>>();
    assert.equal(envelope?.specversion, '1.0');
    assert.equal(envelope?.id, event.idempotencyKey);
    assert.equal(envelope?.type, cloudEventType(event.eventType));
    assert.deepEqual(envelope?.data, JSON.parse(event.json));
  });

  test('JetStream: every PubAck awaited; the same events sent again are stored once (de-duplication)', async () => {
    const before = await streamCount();
    const events = freshEvents(20);
    const destination = natsDestination.create(
      { servers: [server.url], jetstream: true },
      destinationContext('nats'),
    );
    try {
      const first = await destination.send(events, live);
      assert.equal(first.outcome, 'delivered');
      assert.equal(await streamCount(), before + 20);
      const again = await destination.send(events, live);
      assert.equal(again.outcome, 'delivered', 'a duplicate PubAck counts as delivered');
      assert.equal(await streamCount(), before + 20);
    } finally {
      await destination.close();
    }
    // Core NATS carries Nats-Msg-Id too: the stream drops these re-deliveries as well.
    assert.equal((await sendOnce(natsDestination, { servers: server.url }, events)).outcome, 'delivered');
    await delay(100);
    assert.equal(await streamCount(), before + 20);

    const jsm = await jetstreamManager(observer);
    const last = events.at(-1) as OutboundEvent;
    const stored = await jsm.streams.getMessage('FLOWSTREAM', {
      last_by_subj: `flowstream.${last.orgId}.${last.eventType}`,
    });
    assert.equal(stored?.string(), last.json);
    assert.equal(stored?.header.get(MSG_ID_HEADER), last.idempotencyKey);
  });

  test('JetStream: no stream for the subject is fatal', async () => {
    const result = await sendOnce(
      natsDestination,
      { servers: server.url, jetstream: true, subject: 'nostream.{org_id}' },
      freshEvents(2),
    );
    assert.ok(result.outcome === 'fatal');
    assert.equal(result.error.code, 'NATS_NO_STREAM');
  });

  test('JetStream: an event over the stream’s max_msg_size is refused, never truncated; the rest is stored', async () => {
    const before = await streamCount();
    const [small1, small2] = freshEvents(2) as [OutboundEvent, OutboundEvent];
    const big = outboundEvent({ seq: nextSeq++, fields: { error_message: 'x'.repeat(9000) } });
    const result = await sendOnce(natsDestination, { servers: server.url, jetstream: true }, [
      small1,
      big,
      small2,
    ]);
    assert.ok(result.outcome === 'partial');
    assert.deepEqual(
      result.items.map((i) => i.outcome),
      ['delivered', 'rejected', 'delivered'],
    );
    const rejected = result.items[1];
    assert.ok(rejected?.outcome === 'rejected');
    assert.equal(rejected.error.code, 'NATS_JS_10054');
    assert.equal(await streamCount(), before + 2);
    assert.equal(
      (await sendOnce(natsDestination, { servers: server.url, jetstream: true }, [big])).outcome,
      'rejected',
    );
  });

  test('a server restart: the send while it is down is retryable, the next one reconnects', async () => {
    const destination = natsDestination.create(
      { servers: server.url, jetstream: true },
      destinationContext('nats', 'okta', 1500),
    );
    try {
      assert.equal((await destination.send(freshEvents(3), live)).outcome, 'delivered');
      await observer.close();
      await server.stop();
      const down = await destination.send(freshEvents(3), live);
      assert.equal(down.outcome, 'retryable');
      await server.start();
      observer = await connect({ servers: server.url });
      const events = freshEvents(3);
      const before = await streamCount();
      assert.equal((await destination.send(events, live)).outcome, 'delivered');
      assert.equal(await streamCount(), before + 3);
    } finally {
      await destination.close();
    }
  });
});

describe('nats authentication and permissions', { skip: integrationSkip() }, () => {
  let dir: string;
  let tokenServer: NatsServer;
  let usersServer: NatsServer;
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-nats-auth-'));
    tokenServer = await NatsServer.start({
      dir,
      jetstream: false,
      authorization: 'token: "s3cret-token-0123456789"',
    });
    usersServer = await NatsServer.start({
      dir,
      authorization: `users = [
        { user: "writer", password: "writer-password", permissions: { publish: ["flowstream.>", "$JS.API.>"], subscribe: ["_INBOX.>"] } },
        { nkey: "${user.getPublicKey()}" },
      ]`,
    });
  });

  after(async () => {
    await tokenServer?.stop();
    await usersServer?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('token: the right one delivers; a wrong or missing one is fatal', async () => {
    const ok = await sendOnce(
      natsDestination,
      { servers: tokenServer.url, token: 's3cret-token-0123456789' },
      freshEvents(2),
    );
    assert.equal(ok.outcome, 'delivered');
    for (const settings of [
      { servers: tokenServer.url, token: 'wrong-token' },
      { servers: tokenServer.url },
    ]) {
      const result = await sendOnce(natsDestination, settings, freshEvents(1));
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'NATS_AUTHORIZATION');
    }
  });

  test('user/password: a wrong password is fatal; publishing outside the permissions is fatal', async () => {
    const wrong = await sendOnce(
      natsDestination,
      { servers: usersServer.url, user: 'writer', password: 'nope' },
      freshEvents(1),
    );
    assert.ok(wrong.outcome === 'fatal');
    assert.equal(wrong.error.code, 'NATS_AUTHORIZATION');

    const allowed = await sendOnce(
      natsDestination,
      { servers: usersServer.url, user: 'writer', password: 'writer-password' },
      freshEvents(2),
    );
    assert.equal(allowed.outcome, 'delivered');

    for (const jetstream of [false, true]) {
      const started = Date.now();
      const denied = await sendOnce(
        natsDestination,
        {
          servers: usersServer.url,
          user: 'writer',
          password: 'writer-password',
          subject: 'other.{org_id}',
          jetstream,
        },
        freshEvents(2),
        'okta',
        20_000,
      );
      assert.ok(denied.outcome === 'fatal', `jetstream ${jetstream}: ${JSON.stringify(denied)}`);
      assert.equal(denied.error.code, 'NATS_PERMISSION_VIOLATION');
      assert.match(denied.error.message, /other\./);
      assert.ok(Date.now() - started < 10_000, 'reported when the server says so, not at the timeout');
    }
  });

  test('nkey: the user seed authenticates', async () => {
    const result = await sendOnce(
      natsDestination,
      { servers: usersServer.url, nkeySeed: seed },
      freshEvents(2),
    );
    assert.equal(result.outcome, 'delivered');
    const other = new TextDecoder().decode(nkeys.createUser().getSeed());
    const refused = await sendOnce(
      natsDestination,
      { servers: usersServer.url, nkeySeed: other },
      freshEvents(1),
    );
    assert.ok(refused.outcome === 'fatal');
    assert.equal(refused.error.code, 'NATS_AUTHORIZATION');
  });
});

describe('nats over TLS', { skip: integrationSkip() }, () => {
  let dir: string;
  let pki: TestPki;
  let server: NatsServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-nats-tls-'));
    pki = await makeTestPki(dir);
    server = await NatsServer.start({
      dir,
      jetstream: false,
      tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath },
    });
  });

  after(async () => {
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test('verified against the given CA, by host name', async () => {
    const result = await sendOnce(
      natsDestination,
      { servers: `tls://localhost:${server.port}`, tls: { ca: pki.caCert } },
      freshEvents(2),
    );
    assert.equal(result.outcome, 'delivered');
  });

  test('another CA, another name, or no CA (system store) is fatal', async () => {
    const cases: NatsSettings[] = [
      { servers: `tls://localhost:${server.port}`, tls: { ca: pki.otherCaCert } },
      { servers: `tls://127.0.0.1:${server.port}`, tls: { ca: pki.caCert, servername: 'nats.example.org' } },
      { servers: `tls://localhost:${server.port}` },
    ];
    for (const settings of cases) {
      const result = await sendOnce(natsDestination, settings, freshEvents(1));
      assert.equal(result.outcome, 'fatal', JSON.stringify(settings.tls));
    }
  });
});
