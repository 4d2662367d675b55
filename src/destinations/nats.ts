import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import {
  type Authenticator,
  connect,
  headers,
  type NatsConnection,
  type NodeConnectionOptions,
  nkeyAuthenticator,
} from '@nats-io/transport-node';
import { type Static, Type } from '@sinclair/typebox';
import { cloudEventId } from '../formats/cloudevents.js';
import { eventText } from '../formats/json-framing.js';
import { classifyConnectError, networkError } from './classify.js';
import type {
  DeliveryError,
  Destination,
  DestinationContext,
  DestinationDefinition,
  ItemOutcome,
  OutboundEvent,
  SendResult,
} from './destination.js';

/**
 * `nats`: each event as one NATS message, on core NATS or into a JetStream stream
 * (docs/destinations/nats.md).
 *
 * - Subject: `subject` is a template; `{org_id}`, `{flow_id}`, `{execution_id}` and `{event_type}`
 *   are replaced by the event's values, each made a safe subject token (every character other than
 *   A-Z a-z 0-9 `_` `-` becomes `_`, an empty value `_`), so an id can never add tokens or
 *   wildcards. Default `flowstream.{org_id}.{event_type}`.
 * - Payload: the event (Okta JSON, or its CloudEvents envelope) as stored, byte for byte. Header
 *   `Nats-Msg-Id` is the event's idempotency key on every message, so a JetStream stream that
 *   captures the subject drops re-deliveries within its duplicate window even on core NATS.
 * - Core NATS (`jetstream: false`): the batch is published, then `flush()` waits for the server's
 *   PONG, which comes after it processed every message before it. Delivered = the server took them;
 *   core NATS keeps nothing for absent subscribers. A publish permission violation the server
 *   reports meanwhile makes the batch fatal.
 * - JetStream (`jetstream: true`): every message is published with its idempotency key as `msgID`
 *   and the batch is delivered when every PubAck arrived (`duplicate: true` counts: it is stored).
 *   No stream for the subject (no responders) is fatal; a timeout is retryable; a message larger
 *   than the stream's `max_msg_size` (JetStream error 10054), or than the server's `max_payload`,
 *   is refused (dead-lettered), never truncated.
 *
 * Network policy: the client opens its own sockets and cannot take a `lookup`, so flowstream
 * resolves every server host through `network.lookup` itself (which refuses forbidden addresses)
 * and gives the client the resulting addresses, with the host name kept for TLS verification.
 * Cluster gossip is ignored (`ignoreClusterUpdates`), so the client never dials an address that
 * did not pass the policy. The client does not reconnect on its own: after a disconnect the next
 * send opens a new connection, resolved and checked again.
 */

/** Most events in one send. */
export const MAX_BATCH_EVENTS = 1000;
export const DEFAULT_SUBJECT = 'flowstream.{org_id}.{event_type}';
export const DEFAULT_NATS_PORT = 4222;
/** NATS header JetStream uses for de-duplication. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';
/** JetStream API error: message larger than the stream's max_msg_size. */
const JS_MESSAGE_TOO_LARGE = 10054;
/** JetStream API error: JetStream not enabled for the account. */
const JS_NOT_ENABLED_FOR_ACCOUNT = 10039;

const PLACEHOLDERS = {
  org_id: (e: OutboundEvent) => e.orgId,
  flow_id: (e: OutboundEvent) => e.flowId,
  execution_id: (e: OutboundEvent) => e.executionId,
  event_type: (e: OutboundEvent) => e.eventType,
} as const;

/** A server: `host`, `host:port`, `[v6]:port`, optionally with `nats://` or `tls://`. */
const SERVER_PATTERN = '^((nats|tls)://)?([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$';

export const NatsSettingsSchema = Type.Object(
  {
    servers: Type.Union(
      [
        Type.String({ pattern: SERVER_PATTERN }),
        Type.Array(Type.String({ pattern: SERVER_PATTERN }), { minItems: 1, maxItems: 32 }),
      ],
      { description: 'Server(s): host[:port], nats://host:port or tls://host:port. Default port 4222.' },
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        pattern: '^[^\\s*>]+$',
        description:
          'Subject template: {org_id} {flow_id} {execution_id} {event_type}. Default flowstream.{org_id}.{event_type}.',
      }),
    ),
    jetstream: Type.Optional(
      Type.Boolean({ description: 'Publish to JetStream and wait for each PubAck. Default false.' }),
    ),
    token: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'Token authentication (secret).' }),
    ),
    user: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'User name; requires password.' }),
    ),
    password: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'Password (secret).' }),
    ),
    nkeySeed: Type.Optional(
      Type.String({ pattern: '^SU[A-Z2-7]{56}$', description: 'NKey user seed (secret), SU...' }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'PEM CA certificate(s) to trust instead of the system store.',
            }),
          ),
          cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate.' })),
          key: Type.Optional(
            Type.String({ minLength: 1, description: 'PEM private key of `cert` (secret).' }),
          ),
          servername: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 253,
              description: 'Name to verify. Default: the first server host name.',
            }),
          ),
          rejectUnauthorized: Type.Optional(
            Type.Boolean({ description: 'Verify the server certificate. Default true.' }),
          ),
        },
        { additionalProperties: false, description: 'Require TLS, with these settings.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export type NatsSettings = Static<typeof NatsSettingsSchema>;

interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

export interface ResolvedNatsSettings {
  readonly servers: readonly ServerAddress[];
  readonly subject: string;
  readonly jetstream: boolean;
  readonly settings: NatsSettings;
}

/** Parses `host[:port]`, `nats://…`, `tls://…`, `[v6]:port`. */
export function parseServer(value: string): ServerAddress | undefined {
  const match = new RegExp(SERVER_PATTERN).exec(value);
  if (match === null) return undefined;
  const rawHost = match[3] ?? '';
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  const port = match[4] === undefined ? DEFAULT_NATS_PORT : Number(match[4].slice(1));
  if (port < 1 || port > 65535) return undefined;
  return { host, port, tls: match[2] === 'tls' };
}

/** A subject token from a value: only A-Z a-z 0-9 `_` `-` are kept, the rest become `_`. */
export function subjectToken(value: string): string {
  const token = value.replace(/[^A-Za-z0-9_-]/g, '_');
  return token === '' ? '_' : token;
}

/** The subject for `event` (see the module comment). */
export function renderSubject(template: string, event: OutboundEvent): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const value = Object.hasOwn(PLACEHOLDERS, name)
      ? PLACEHOLDERS[name as keyof typeof PLACEHOLDERS]
      : undefined;
    return value === undefined ? whole : subjectToken(value(event));
  });
}

/** Why `template` cannot make valid publish subjects, or undefined when it can. */
export function subjectTemplateProblem(template: string): string | undefined {
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!Object.hasOwn(PLACEHOLDERS, name ?? '')) {
      return `settings.subject has an unknown placeholder {${name}}; known: ${Object.keys(PLACEHOLDERS)
        .map((p) => `{${p}}`)
        .join(' ')}`;
    }
  }
  const sample = template.replace(/\{[a-z_]+\}/g, 'x');
  if (/[\s*>{}]/.test(sample))
    return `settings.subject must not contain spaces, wildcards or braces: ${template}`;
  if (sample.split('.').some((token) => token === ''))
    return `settings.subject has an empty token: ${template}`;
  return undefined;
}

export function resolveNatsSettings(settings: NatsSettings): ResolvedNatsSettings | string {
  const list = typeof settings.servers === 'string' ? [settings.servers] : settings.servers;
  const servers: ServerAddress[] = [];
  for (const value of list) {
    const server = parseServer(value);
    if (server === undefined) return `settings.servers has an invalid server: ${value}`;
    servers.push(server);
  }
  const subject = settings.subject ?? DEFAULT_SUBJECT;
  const problem = subjectTemplateProblem(subject);
  if (problem !== undefined) return problem;
  const methods = [settings.token, settings.user ?? settings.password, settings.nkeySeed].filter(
    (m) => m !== undefined,
  );
  if (methods.length > 1)
    return 'settings.token, settings.user/password and settings.nkeySeed are alternatives: set one';
  if ((settings.user === undefined) !== (settings.password === undefined)) {
    return 'settings.user and settings.password go together';
  }
  if ((settings.tls?.cert === undefined) !== (settings.tls?.key === undefined)) {
    return 'settings.tls.cert and settings.tls.key go together';
  }
  return { servers, subject, jetstream: settings.jetstream ?? false, settings };
}

export const natsDestination: DestinationDefinition<NatsSettings> = {
  type: 'nats',
  settingsSchema: NatsSettingsSchema,
  secretSettings: ['/token', '/password', '/nkeySeed', '/tls/key'],
  targets: (settings) => {
    const list = typeof settings.servers === 'string' ? [settings.servers] : settings.servers;
    return list.map((value) => parseServer(value)?.host ?? value);
  },
  create: (settings, context) => new NatsDestination(settings, context),
};

type Failure = Exclude<SendResult, { outcome: 'delivered' } | { outcome: 'partial' }>;

interface Connected {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
}

interface Outgoing {
  readonly index: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly msgId: string;
}

class NatsDestination implements Destination {
  readonly maxBatchEvents = MAX_BATCH_EVENTS;
  private readonly resolved: ResolvedNatsSettings | undefined;
  private readonly settingsError: string | undefined;
  private closed = false;
  private current: Connected | undefined;
  private connecting: Promise<Connected | Failure> | undefined;
  /** Publish permission violations the server reported (ever, on any connection), and the last one. */
  private violations = 0;
  private lastViolation: DeliveryError | undefined;
  private readonly violationListeners = new Set<() => void>();

  constructor(
    settings: NatsSettings,
    private readonly context: DestinationContext,
  ) {
    const resolved = resolveNatsSettings(settings);
    if (typeof resolved === 'string') this.settingsError = resolved;
    else this.resolved = resolved;
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    const settings = this.resolved;
    if (settings === undefined) {
      return { outcome: 'fatal', error: { code: 'NATS_BAD_SETTINGS', message: this.settingsError ?? '' } };
    }
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    if (this.closed) return { outcome: 'retryable', error: closedError() };

    const deadlineMillis = Date.now() + this.context.timeoutMillis;
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.context.timeoutMillis)]);
    const connected = await this.connection(settings, deadline);
    if ('outcome' in connected) return connected;

    const encoder = new TextEncoder();
    const outgoing: Outgoing[] = batch.map((event, index) => ({
      index,
      subject: renderSubject(settings.subject, event),
      data: encoder.encode(eventText(event, this.context.format)),
      msgId: cloudEventId(event),
    }));
    const items: ItemOutcome[] = batch.map(() => ({ outcome: 'delivered' }));
    const failure = settings.jetstream
      ? await this.publishJetStream(connected, outgoing, items, deadline, deadlineMillis)
      : await this.publishCore(connected, outgoing, items, deadline);
    if (failure !== undefined) return failure;

    const rejected = items.filter((item) => item.outcome === 'rejected');
    let bytes = 0;
    batch.forEach((event, i) => {
      if (items[i]?.outcome === 'delivered') bytes += Buffer.byteLength(event.json, 'utf8');
    });
    if (rejected.length === 0) return { outcome: 'delivered', bytes };
    const [only] = rejected;
    if (batch.length === 1 && only !== undefined && only.outcome === 'rejected') {
      return { outcome: 'rejected', error: only.error };
    }
    return { outcome: 'partial', bytes, items };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.connecting;
    const current = this.current;
    this.current = undefined;
    if (current !== undefined) await current.nc.close().catch(() => undefined);
    if (pending !== undefined) {
      const late = await pending;
      if (!('outcome' in late)) await late.nc.close().catch(() => undefined);
    }
  }

  /** Core NATS: publish all, then one flush (PING/PONG) confirms the server processed them. */
  private async publishCore(
    { nc }: Connected,
    outgoing: readonly Outgoing[],
    items: ItemOutcome[],
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    const violationsBefore = this.violations;
    for (const message of outgoing) {
      const h = headers();
      h.set(MSG_ID_HEADER, message.msgId);
      try {
        nc.publish(message.subject, message.data, { headers: h });
      } catch (err: unknown) {
        const result = classifyNatsError(err);
        if (result.outcome !== 'rejected') return result;
        items[message.index] = result;
      }
    }
    try {
      await raceSignal(nc.flush(), signal);
    } catch (err: unknown) {
      return signal.aborted ? timedOut() : classifyNatsError(err);
    }
    // Let the status listener see an -ERR that arrived before the PONG.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.violations > violationsBefore) return this.permissionFailure();
    return undefined;
  }

  /** JetStream: all publishes in flight at once (one connection keeps their order), then every PubAck. */
  private async publishJetStream(
    { js }: Connected,
    outgoing: readonly Outgoing[],
    items: ItemOutcome[],
    signal: AbortSignal,
    deadlineMillis: number,
  ): Promise<Failure | undefined> {
    const violationsBefore = this.violations;
    const timeout = Math.max(1, deadlineMillis - Date.now());
    // A publish the server refuses for permissions gets no PubAck at all: stop waiting as soon as
    // the server reports the violation rather than at the timeout.
    let stopWaiting: () => void = () => {};
    const violated = new Promise<undefined>((resolve) => {
      stopWaiting = () => resolve(undefined);
    });
    this.violationListeners.add(stopWaiting);
    let settled: PromiseSettledResult<unknown>[] | undefined;
    try {
      settled = await raceSignal(
        Promise.race([
          Promise.allSettled(
            outgoing.map((message) =>
              js.publish(message.subject, message.data, { msgID: message.msgId, timeout }),
            ),
          ),
          violated,
        ]),
        signal,
      );
    } catch {
      settled = undefined;
    } finally {
      this.violationListeners.delete(stopWaiting);
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (this.violations > violationsBefore) return this.permissionFailure();
    if (settled === undefined) return timedOut();
    let retryable: Failure | undefined;
    for (const [i, result] of settled.entries()) {
      if (result.status === 'fulfilled') continue;
      const classified = classifyNatsError(result.reason);
      if (classified.outcome === 'fatal') return classified;
      if (classified.outcome === 'rejected') {
        const message = outgoing[i];
        if (message !== undefined) items[message.index] = classified;
      } else {
        retryable ??= classified;
      }
    }
    if (this.violations > violationsBefore) return this.permissionFailure();
    // A retry re-sends the whole batch; the stream drops what it already stored (same msgID).
    return retryable;
  }

  private permissionFailure(): Failure {
    return {
      outcome: 'fatal',
      error: this.lastViolation ?? {
        code: 'NATS_PERMISSION_VIOLATION',
        message: 'publish permission violation',
      },
    };
  }

  /** The open connection, or a new one (resolved through the network policy). */
  private async connection(
    settings: ResolvedNatsSettings,
    signal: AbortSignal,
  ): Promise<Connected | Failure> {
    const current = this.current;
    if (current !== undefined && !current.nc.isClosed()) return current;
    this.current = undefined;
    if (this.connecting === undefined) {
      const attempt = this.open(settings);
      this.connecting = attempt;
      void attempt.finally(() => {
        if (this.connecting === attempt) this.connecting = undefined;
      });
    }
    try {
      return await raceSignal(this.connecting, signal);
    } catch {
      return timedOut();
    }
  }

  private async open(settings: ResolvedNatsSettings): Promise<Connected | Failure> {
    // A server the policy forbids makes the stream fatal; one that does not resolve right now is
    // skipped as long as another one does.
    const addresses: string[] = [];
    let unresolved: Failure | undefined;
    for (const server of settings.servers) {
      const resolved = await lookupAll(this.context.network.lookup, server.host);
      if ('outcome' in resolved) {
        if (resolved.outcome === 'fatal') return resolved;
        unresolved ??= resolved;
        continue;
      }
      for (const { address, family } of resolved) {
        addresses.push(family === 6 ? `[${address}]:${server.port}` : `${address}:${server.port}`);
      }
    }
    if (addresses.length === 0 && unresolved !== undefined) return unresolved;
    if (this.closed) return { outcome: 'retryable', error: closedError() };

    const options: NodeConnectionOptions = {
      servers: addresses,
      name: `flowstream/${this.context.streamId}`,
      ignoreClusterUpdates: true,
      resolve: false,
      reconnect: false,
      timeout: this.context.timeoutMillis,
    };
    const { token, user, password, nkeySeed } = settings.settings;
    if (token !== undefined) options.token = token;
    if (user !== undefined && password !== undefined) {
      options.user = user;
      options.pass = password;
    }
    if (nkeySeed !== undefined) {
      const authenticator: Authenticator = nkeyAuthenticator(new TextEncoder().encode(nkeySeed));
      options.authenticator = authenticator;
    }
    const tls = tlsOptions(settings);
    if (tls !== undefined) options.tls = tls;

    let nc: NatsConnection;
    try {
      nc = await connect(options);
    } catch (err: unknown) {
      return classifyNatsError(err);
    }
    if (this.closed) {
      await nc.close().catch(() => undefined);
      return { outcome: 'retryable', error: closedError() };
    }
    const connected: Connected = { nc, js: jetstream(nc) };
    this.current = connected;
    void this.watch(nc);
    void nc.closed().then((err) => {
      if (this.current?.nc === nc) this.current = undefined;
      if (err !== undefined && !this.closed) {
        this.context.logger.debug({ err, streamId: this.context.streamId }, 'nats connection closed');
      }
    });
    return connected;
  }

  /** Counts publish permission violations the server reports (they arrive as async -ERR). */
  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type !== 'error') continue;
      const err = status.error as Error & { operation?: string; subject?: string };
      if (err.name === 'PermissionViolationError' && err.operation === 'publish') {
        this.violations++;
        this.lastViolation = {
          code: 'NATS_PERMISSION_VIOLATION',
          message: `the NATS server refused to let this user publish to ${err.subject ?? 'the subject'}`,
        };
        for (const listener of this.violationListeners) listener();
      }
    }
  }
}

function tlsOptions(settings: ResolvedNatsSettings): NodeConnectionOptions['tls'] | undefined {
  const tls = settings.settings.tls;
  if (tls === undefined && !settings.servers.some((s) => s.tls)) return undefined;
  // The client dials addresses, so the name to verify is given explicitly (Node's `servername`,
  // which the client passes through to tls.connect).
  const servername = tls?.servername ?? settings.servers.map((s) => s.host).find((host) => isIP(host) === 0);
  const options: Record<string, unknown> = { rejectUnauthorized: tls?.rejectUnauthorized ?? true };
  if (servername !== undefined) options.servername = servername;
  if (tls?.ca !== undefined) options.ca = tls.ca;
  if (tls?.cert !== undefined) options.cert = tls.cert;
  if (tls?.key !== undefined) options.key = tls.key;
  return options as NonNullable<NodeConnectionOptions['tls']>;
}

/** Every address of `host`, through the network policy's lookup. */
function lookupAll(
  lookup: DestinationContext['network']['lookup'],
  host: string,
): Promise<readonly LookupAddress[] | Failure> {
  return new Promise((resolve) => {
    lookup(host, { all: true }, (err, address, family) => {
      if (err) return resolve(classifyConnectError(err));
      const all = typeof address === 'string' ? [{ address, family: family ?? 4 }] : address;
      if (all.length === 0) {
        return resolve({
          outcome: 'retryable',
          error: { code: 'ENOTFOUND', message: `no address for ${host}` },
        });
      }
      resolve(all);
    });
  });
}

/**
 * NATS client errors as results: authentication and permissions are fatal for the stream, so is a
 * subject no JetStream stream captures; too-large messages are refused; TLS verification failures
 * and forbidden addresses are fatal (as for syslog); timeouts and connection trouble retryable.
 */
export function classifyNatsError(err: unknown): Failure | Extract<ItemOutcome, { outcome: 'rejected' }> {
  if (!(err instanceof Error)) return { outcome: 'retryable', error: networkError(err) };
  const message = err.message;
  switch (err.name) {
    case 'AuthorizationError':
    case 'UserAuthenticationExpiredError':
      return { outcome: 'fatal', error: { code: 'NATS_AUTHORIZATION', message: `NATS: ${message}` } };
    case 'PermissionViolationError':
      return { outcome: 'fatal', error: { code: 'NATS_PERMISSION_VIOLATION', message: `NATS: ${message}` } };
    case 'JetStreamNotEnabled':
      return {
        outcome: 'fatal',
        error: {
          code: 'NATS_NO_STREAM',
          message: 'no JetStream stream captures the subject (or JetStream is not enabled on the server)',
        },
      };
    case 'JetStreamApiError': {
      const code = (err as Error & { code?: unknown }).code;
      const error: DeliveryError = { code: `NATS_JS_${String(code)}`, message: `JetStream: ${message}` };
      if (code === JS_MESSAGE_TOO_LARGE) return { outcome: 'rejected', error };
      if (code === JS_NOT_ENABLED_FOR_ACCOUNT) return { outcome: 'fatal', error };
      return { outcome: 'retryable', error };
    }
    case 'InvalidArgumentError':
      if (message.includes('max_payload')) {
        return {
          outcome: 'rejected',
          error: {
            code: 'NATS_MAX_PAYLOAD',
            message: 'the message is larger than the server’s max_payload; it is not truncated',
          },
        };
      }
      return { outcome: 'fatal', error: { code: 'NATS_INVALID_ARGUMENT', message: `NATS: ${message}` } };
    case 'TimeoutError':
      return {
        outcome: 'retryable',
        error: { code: 'TIMEOUT', message: 'the NATS server did not answer in time' },
      };
    case 'RequestError':
      if ((err as Error & { isNoResponders?: () => boolean }).isNoResponders?.() === true) {
        return classifyNatsError(Object.assign(new Error(message), { name: 'JetStreamNotEnabled' }));
      }
      return { outcome: 'retryable', error: networkError(err) };
    default: {
      const classified = classifyConnectError(err);
      if (classified.outcome !== 'retryable') return classified;
      if (err.name === 'ClosedConnectionError' || err.name === 'DrainingConnectionError') {
        return {
          outcome: 'retryable',
          error: { code: 'NATS_CONNECTION_CLOSED', message: `NATS: ${message}` },
        };
      }
      return classified;
    }
  }
}

/** `promise`, or a rejection when `signal` aborts first. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function timedOut(): Failure {
  return {
    outcome: 'retryable',
    error: { code: 'TIMEOUT', message: 'the NATS server did not answer in time' },
  };
}

function closedError(): DeliveryError {
  return { code: 'DESTINATION_CLOSED', message: 'the destination is closed' };
}
