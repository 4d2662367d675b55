import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { LookupAddress } from 'node:dns';
import { connect as netConnect, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { type Static, Type } from '@sinclair/typebox';
import { batchJsonBytes, eventLine } from '../formats/json-framing.js';
import {
  DEFAULT_APP_NAME,
  DEFAULT_ENTERPRISE_ID,
  DEFAULT_FACILITY,
  facilityCode,
  formatRfc5424,
  frameNewline,
  frameOctetCounting,
  type Rfc5424Options,
  SYSLOG_FACILITIES,
} from '../formats/syslog-5424.js';
import { classifyConnectError } from './classify.js';
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
 * `syslog`: RFC 5424 messages with the event JSON as MSG, over TCP, TLS (RFC 5425) or UDP
 * (RFC 5426) (docs/destinations/syslog.md; the message format is in formats/syslog-5424.ts).
 *
 * Delivery semantics. Syslog has no application-level acknowledgement, so "delivered" means:
 * - `udp`: each datagram was handed to the kernel. Loss on the way is silent (RFC 5426 §3.5).
 * - `tcp`/`tls` with `confirm: write` (the default): one persistent connection; the whole batch was
 *   written into it (the write callback fired) and the receiver had not closed it. A receiver that
 *   stops or crashes loses what was still in its socket buffer, and flowstream cannot know it
 *   (measured against syslog-ng restarted under full load: tens of thousands of events).
 * - `tcp`/`tls` with `confirm: close`: one connection per batch; flowstream writes the batch,
 *   half-closes, and reports delivered only when the receiver closes its side in turn, which a
 *   receiver does after it has read every byte. What remains is the receiver's own durability
 *   (syslog-ng stopped mid-batch lost the rest of one batch it had read but not yet written out).
 * Either way a failed or timed-out batch is sent again whole (at-least-once): receivers see
 * duplicates, each with its `idempotency_key` in the structured data.
 *
 * Limits: a message (header + structured data + MSG, before framing) larger than `maxMessageBytes`
 * is never truncated: the event is refused (`SYSLOG_MESSAGE_TOO_LARGE`) and dead-lettered by the
 * runner. Newline framing replaces CR/LF inside a message with spaces (RFC 6587 §3.4.2 has no
 * escape); the MSG is single-line JSON, so only hostile ids are affected.
 *
 * TLS: verification failures and refused handshakes are fatal. With TLS 1.3 a server refuses a
 * client certificate only after the client's handshake completed, so a new persistent connection
 * waits about one handshake time for that verdict before the first batch is written (`connect`).
 *
 * Network policy: every connection resolves its host through `network.lookup` (TCP, TLS) or resolves
 * once with it and connects the UDP socket to that address.
 */

/** Default `maxMessageBytes`: 8 KiB, rsyslog's default message size limit (syslog-ng's is 64 KiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8192;
/** Largest UDP payload over IPv4 (65535 − 8 UDP − 20 IP header bytes). */
export const MAX_UDP_MESSAGE_BYTES = 65_507;
/** Most events in one send. */
export const MAX_BATCH_EVENTS = 1000;
/** Default ports: 514 for tcp and udp (customary), 6514 for tls (RFC 5425). */
export const DEFAULT_PORTS = Object.freeze({ tcp: 514, udp: 514, tls: 6514 });
/** Bounds of the wait for a TLS 1.3 server's verdict on the client certificate (see `connect`). */
const MIN_TLS_VERDICT_MILLIS = 50;
const MAX_TLS_VERDICT_MILLIS = 2000;
/** TCP keepalive on the persistent connection, so that a vanished receiver is noticed while idle. */
const KEEPALIVE_MILLIS = 60_000;

const PRINTUSASCII = (max: number): string => `^[\\x21-\\x7e]{1,${max}}$`;
const FACILITY_NAMES = Object.keys(SYSLOG_FACILITIES) as (keyof typeof SYSLOG_FACILITIES)[];

export const SyslogSettingsSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      maxLength: 253,
      pattern: '^[^\\s/]+$',
      description: 'Receiver host name or address.',
    }),
    port: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 514 (tcp, udp) or 6514 (tls).' }),
    ),
    transport: Type.Optional(
      Type.Union([Type.Literal('tcp'), Type.Literal('tls'), Type.Literal('udp')], {
        description: 'Default tcp.',
      }),
    ),
    framing: Type.Optional(
      Type.Union([Type.Literal('octet-counting'), Type.Literal('newline')], {
        description: 'RFC 6587 framing for tcp and tls. Default octet-counting.',
      }),
    ),
    facility: Type.Optional(
      Type.Union(
        [
          Type.Union(FACILITY_NAMES.map((name) => Type.Literal(name))),
          Type.Integer({ minimum: 0, maximum: 23 }),
        ],
        {
          description: 'Facility name (local0) or code (0..23). Default local0 (16).',
        },
      ),
    ),
    hostname: Type.Optional(
      Type.String({
        pattern: PRINTUSASCII(255),
        description: 'HOSTNAME field. Default: this machine’s name.',
      }),
    ),
    appName: Type.Optional(
      Type.String({ pattern: PRINTUSASCII(48), description: 'APP-NAME. Default flowstream.' }),
    ),
    procId: Type.Optional(
      Type.String({ pattern: PRINTUSASCII(128), description: 'PROCID. Default NILVALUE (-).' }),
    ),
    enterpriseId: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,10}(\\.[0-9]{1,10}){0,5}$',
        description:
          'Private Enterprise Number in the SD-ID flowstream@<enterpriseId>. Default 32473 (example PEN).',
      }),
    ),
    utf8Bom: Type.Optional(
      Type.Boolean({ description: 'Start MSG with a UTF-8 BOM (RFC 5424 MSG-UTF8). Default false.' }),
    ),
    maxMessageBytes: Type.Optional(
      Type.Integer({
        minimum: 480,
        maximum: 1024 * 1024,
        description:
          'Largest message in bytes; a larger event is dead-lettered. Default 8192; at most 65507 for udp.',
      }),
    ),
    confirm: Type.Optional(
      Type.Union([Type.Literal('write'), Type.Literal('close')], {
        description:
          'tcp/tls: write (default) = persistent connection, delivered once written; close = one connection per batch, delivered once the receiver closed it after reading everything.',
      }),
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
          cert: Type.Optional(
            Type.String({ minLength: 1, description: 'PEM client certificate (mutual TLS).' }),
          ),
          key: Type.Optional(
            Type.String({ minLength: 1, description: 'PEM private key of `cert` (secret).' }),
          ),
          servername: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 253,
              description: 'Name to verify (SNI). Default: host.',
            }),
          ),
          rejectUnauthorized: Type.Optional(
            Type.Boolean({ description: 'Verify the receiver’s certificate. Default true.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type SyslogSettings = Static<typeof SyslogSettingsSchema>;

type Transport = 'tcp' | 'tls' | 'udp';

/** Settings with defaults applied and cross-field rules checked. */
export interface ResolvedSyslogSettings {
  readonly host: string;
  readonly port: number;
  readonly transport: Transport;
  readonly framing: 'octet-counting' | 'newline';
  readonly confirm: 'write' | 'close';
  readonly maxMessageBytes: number;
  readonly message: Rfc5424Options;
  readonly tls: Readonly<NonNullable<SyslogSettings['tls']>>;
}

/**
 * Applies defaults and the rules the schema cannot state; returns the problem as a sentence that
 * names the setting when the combination is refused.
 */
export function resolveSyslogSettings(settings: SyslogSettings): ResolvedSyslogSettings | string {
  const transport = settings.transport ?? 'tcp';
  if (settings.tls !== undefined && transport !== 'tls') return 'settings.tls applies only to transport: tls';
  if (transport === 'udp') {
    if (settings.framing !== undefined)
      return 'settings.framing applies only to tcp and tls (udp sends one message per datagram)';
    if (settings.confirm !== undefined) return 'settings.confirm applies only to tcp and tls';
    if ((settings.maxMessageBytes ?? 0) > MAX_UDP_MESSAGE_BYTES) {
      return `settings.maxMessageBytes must be at most ${MAX_UDP_MESSAGE_BYTES} with transport: udp, got ${settings.maxMessageBytes}`;
    }
  }
  if ((settings.tls?.cert === undefined) !== (settings.tls?.key === undefined)) {
    return 'settings.tls.cert and settings.tls.key go together';
  }
  const facility = facilityCode(settings.facility ?? DEFAULT_FACILITY);
  if (facility === undefined)
    return `settings.facility is not a facility name or code 0..23: ${String(settings.facility)}`;
  const message: Rfc5424Options = {
    facility,
    hostname: settings.hostname ?? osHostname(),
    appName: settings.appName ?? DEFAULT_APP_NAME,
    enterpriseId: settings.enterpriseId ?? DEFAULT_ENTERPRISE_ID,
    utf8Bom: settings.utf8Bom ?? false,
    ...(settings.procId === undefined ? {} : { procId: settings.procId }),
  };
  return {
    host: settings.host,
    port: settings.port ?? DEFAULT_PORTS[transport],
    transport,
    framing: settings.framing ?? 'octet-counting',
    confirm: settings.confirm ?? 'write',
    maxMessageBytes: settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    message,
    tls: settings.tls ?? {},
  };
}

export const syslogDestination: DestinationDefinition<SyslogSettings> = {
  type: 'syslog',
  settingsSchema: SyslogSettingsSchema,
  secretSettings: ['/tls/key'],
  targets: (settings) => [settings.host],
  create: (settings, context) => new SyslogDestination(settings, context),
};

type Failure = Exclude<SendResult, { outcome: 'delivered' } | { outcome: 'partial' }>;

class SyslogDestination implements Destination {
  readonly maxBatchEvents = MAX_BATCH_EVENTS;
  readonly maxEventBytes: number;
  private readonly resolved: ResolvedSyslogSettings | undefined;
  private readonly settingsError: string | undefined;
  private closed = false;
  /** The persistent connection (`confirm: write`), while it is usable. */
  private socket: Socket | undefined;
  /** Sends on the persistent connection run one after the other, so batches never interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Per-batch connections (`confirm: close`) and pending connects, destroyed by `close()`. */
  private readonly transient = new Set<Socket>();
  private udp: UdpSocket | undefined;

  constructor(
    settings: SyslogSettings,
    private readonly context: DestinationContext,
  ) {
    const resolved = resolveSyslogSettings(settings);
    if (typeof resolved === 'string') {
      this.settingsError = resolved;
      this.maxEventBytes = DEFAULT_MAX_MESSAGE_BYTES;
    } else {
      this.resolved = resolved;
      // The JSON alone cannot exceed the whole message; the exact check happens after encoding.
      this.maxEventBytes = resolved.maxMessageBytes;
    }
  }

  async send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    const settings = this.resolved;
    if (settings === undefined) {
      return { outcome: 'fatal', error: { code: 'SYSLOG_BAD_SETTINGS', message: this.settingsError ?? '' } };
    }
    if (batch.length === 0) return { outcome: 'delivered', bytes: 0 };
    if (this.closed) return { outcome: 'retryable', error: closedError() };

    const messages: Buffer[] = [];
    const items: ItemOutcome[] = [];
    let tooLarge: DeliveryError | undefined;
    for (const event of batch) {
      const text = formatRfc5424(event, settings.message, eventLine(event, this.context.format));
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > settings.maxMessageBytes) {
        tooLarge = {
          code: 'SYSLOG_MESSAGE_TOO_LARGE',
          message: `the syslog message is ${bytes} bytes, more than maxMessageBytes (${settings.maxMessageBytes}); it is not truncated`,
        };
        items.push({ outcome: 'rejected', error: tooLarge });
        continue;
      }
      items.push({ outcome: 'delivered' });
      if (settings.transport === 'udp') messages.push(Buffer.from(text, 'utf8'));
      else if (settings.framing === 'newline') messages.push(frameNewline(text));
      else messages.push(frameOctetCounting(Buffer.from(text, 'utf8')));
    }
    if (messages.length === 0 && tooLarge !== undefined && batch.length === 1) {
      return { outcome: 'rejected', error: tooLarge };
    }

    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.context.timeoutMillis)]);
    let failure: Failure | undefined;
    if (messages.length > 0) {
      if (settings.transport === 'udp') failure = await this.sendUdp(settings, messages, deadline);
      else if (settings.confirm === 'close')
        failure = await this.sendConfirmed(settings, Buffer.concat(messages), deadline);
      else
        failure = await this.enqueue(() => this.sendPersistent(settings, Buffer.concat(messages), deadline));
    }
    if (failure !== undefined) return failure;

    if (tooLarge === undefined) return { outcome: 'delivered', bytes: batchJsonBytes(batch) };
    let bytes = 0;
    batch.forEach((event, i) => {
      if (items[i]?.outcome === 'delivered') bytes += Buffer.byteLength(event.json, 'utf8');
    });
    return { outcome: 'partial', bytes, items };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
    for (const socket of this.transient) socket.destroy();
    this.transient.clear();
    const udp = this.udp;
    this.udp = undefined;
    if (udp !== undefined) await new Promise<void>((resolve) => udp.close(() => resolve()));
    await this.queue;
  }

  private enqueue(task: () => Promise<Failure | undefined>): Promise<Failure | undefined> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `confirm: write`: the batch into the persistent connection, (re)connecting when needed. */
  private async sendPersistent(
    settings: ResolvedSyslogSettings,
    payload: Buffer,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    if (this.closed) return { outcome: 'retryable', error: closedError() };
    if (this.socket !== undefined) {
      // Let pending I/O callbacks run first, so that a FIN or reset the receiver sent since the last
      // batch is seen before this batch is written into a connection that is already gone.
      await new Promise((resolve) => setImmediate(resolve));
    }
    let socket = this.socket;
    if (socket === undefined) {
      const connected = await this.connect(settings, signal, true);
      if (!('write' in connected)) return connected;
      socket = connected;
      this.adopt(socket);
    }
    const failure = await writeAndWait(socket, payload, signal, () => this.socket !== socket);
    if (failure !== undefined) {
      socket.destroy();
      if (this.socket === socket) this.socket = undefined;
    }
    return failure;
  }

  /** Keeps `socket` as the persistent connection until the receiver closes it or it fails. */
  private adopt(socket: Socket): void {
    this.transient.delete(socket);
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    socket.setKeepAlive(true, KEEPALIVE_MILLIS);
    // A syslog receiver sends nothing; whatever arrives is read and dropped so it cannot pile up.
    socket.resume();
    const drop = (): void => {
      if (this.socket === socket) this.socket = undefined;
      socket.destroy();
    };
    socket.on('end', drop);
    socket.on('close', drop);
    socket.on('error', (err: unknown) => {
      this.context.logger.debug({ err, streamId: this.context.streamId }, 'syslog connection failed');
      drop();
    });
  }

  /** `confirm: close`: a connection for this batch, delivered when the receiver closes it in turn. */
  private async sendConfirmed(
    settings: ResolvedSyslogSettings,
    payload: Buffer,
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    // No TLS 1.3 verdict wait: a refused client certificate ends this connection with an alert
    // instead of the receiver's FIN, so the batch is not confirmed either way.
    const connected = await this.connect(settings, signal, false);
    if (!('write' in connected)) return connected;
    const socket = connected;
    this.transient.add(socket);
    try {
      return await new Promise<Failure | undefined>((resolve) => {
        let done = false;
        const finish = (result: Failure | undefined): void => {
          if (done) return;
          done = true;
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          resolve(result);
        };
        const onAbort = (): void => finish(timedOut());
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        // The receiver's FIN after ours: it has read everything up to our end of stream.
        socket.once('end', () => finish(undefined));
        socket.once('error', (err: unknown) => finish(classifyConnectError(err)));
        socket.once('close', () => finish(connectionClosed()));
        socket.resume();
        socket.end(payload);
      });
    } finally {
      this.transient.delete(socket);
    }
  }

  /** Opens a TCP or TLS connection through the network policy's lookup. */
  private connect(
    settings: ResolvedSyslogSettings,
    signal: AbortSignal,
    verdict: boolean,
  ): Promise<Socket | Failure> {
    if (this.closed) return Promise.resolve({ outcome: 'retryable', error: closedError() });
    return new Promise((resolve) => {
      const base = { host: settings.host, port: settings.port, lookup: this.context.network.lookup };
      let socket: Socket;
      let readyEvent: 'connect' | 'secureConnect';
      if (settings.transport === 'tls') {
        const options: ConnectionOptions = {
          ...base,
          rejectUnauthorized: settings.tls.rejectUnauthorized ?? true,
        };
        if (settings.tls.servername !== undefined) options.servername = settings.tls.servername;
        if (settings.tls.ca !== undefined) options.ca = settings.tls.ca;
        if (settings.tls.cert !== undefined) options.cert = settings.tls.cert;
        if (settings.tls.key !== undefined) options.key = settings.tls.key;
        socket = tlsConnect(options);
        readyEvent = 'secureConnect';
      } else {
        socket = netConnect(base);
        readyEvent = 'connect';
      }
      socket.setNoDelay(true);
      this.transient.add(socket);
      let done = false;
      const finish = (result: Socket | Failure): void => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        socket.removeListener(readyEvent, onReady);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (result !== socket) {
          this.transient.delete(socket);
          socket.destroy();
        }
        resolve(result);
      };
      const startedAt = performance.now();
      const onReady = (): void => {
        if (!verdict || readyEvent !== 'secureConnect' || (socket as TLSSocket).getProtocol() !== 'TLSv1.3') {
          finish(socket);
          return;
        }
        // TLS 1.3 completes on the client before the server has checked the client's certificate;
        // a refusal (no or untrusted certificate) arrives as an alert one round trip later. Bytes
        // written before that would be reported delivered and lost, so the connection is used only
        // after that long: the handshake's own duration (about two round trips), within bounds.
        const waitMillis = Math.min(
          MAX_TLS_VERDICT_MILLIS,
          Math.max(MIN_TLS_VERDICT_MILLIS, performance.now() - startedAt),
        );
        setTimeout(() => finish(socket), waitMillis).unref();
      };
      const onError = (err: unknown): void => finish(classifyConnectError(err));
      const onClose = (): void => finish(connectionClosed());
      const onAbort = (): void => finish(timedOut());
      socket.once(readyEvent, onReady);
      socket.once('error', onError);
      socket.once('close', onClose);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One datagram per message (RFC 5426 §3.1), on a socket connected to the resolved receiver. */
  private async sendUdp(
    settings: ResolvedSyslogSettings,
    messages: readonly Buffer[],
    signal: AbortSignal,
  ): Promise<Failure | undefined> {
    let socket = this.udp;
    if (socket === undefined) {
      const opened = await this.openUdp(settings, signal);
      if (!('send' in opened)) return opened;
      socket = opened;
    }
    for (const message of messages) {
      if (signal.aborted) return timedOut();
      const error = await new Promise<Error | null>((resolve) => {
        (socket as UdpSocket).send(message, (err) => resolve(err));
      });
      if (error !== null) {
        // ICMP port unreachable from an earlier datagram shows up here as ECONNREFUSED.
        this.dropUdp(socket);
        return classifyConnectError(error);
      }
    }
    return undefined;
  }

  private async openUdp(settings: ResolvedSyslogSettings, signal: AbortSignal): Promise<UdpSocket | Failure> {
    const resolved = await lookupOnce(this.context.network.lookup, settings.host);
    if ('outcome' in resolved) return resolved;
    if (signal.aborted) return timedOut();
    if (this.closed) return { outcome: 'retryable', error: closedError() };
    const socket = createSocket({ type: resolved.family === 6 ? 'udp6' : 'udp4' });
    const failure = await new Promise<Failure | undefined>((resolve) => {
      socket.once('error', (err) => resolve(classifyConnectError(err)));
      socket.connect(settings.port, resolved.address, () => resolve(undefined));
    });
    if (failure !== undefined) {
      socket.close();
      return failure;
    }
    socket.on('error', (err) => {
      this.context.logger.debug({ err, streamId: this.context.streamId }, 'syslog udp socket failed');
      this.dropUdp(socket);
    });
    socket.unref();
    if (this.closed) {
      socket.close();
      return { outcome: 'retryable', error: closedError() };
    }
    this.udp = socket;
    return socket;
  }

  private dropUdp(socket: UdpSocket): void {
    if (this.udp === socket) this.udp = undefined;
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Writes `payload` and waits for the write callback (the bytes are in the kernel). `gone` says
 * whether the connection was dropped meanwhile (receiver FIN or reset): then the bytes may not have
 * reached the receiver, so the batch is retryable.
 */
function writeAndWait(
  socket: Socket,
  payload: Buffer,
  signal: AbortSignal,
  gone: () => boolean,
): Promise<Failure | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (result: Failure | undefined): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      resolve(result);
    };
    const onAbort = (): void => finish(timedOut());
    const onError = (err: unknown): void => finish(classifyConnectError(err));
    const onClose = (): void => finish(connectionClosed());
    if (gone() || socket.destroyed) return finish(connectionClosed());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.write(payload, (err) => {
      if (err) finish(classifyConnectError(err));
      else if (gone()) finish(connectionClosed());
      else finish(undefined);
    });
  });
}

/** Resolves `host` once through the policy's lookup (UDP connects to an address, not a name). */
function lookupOnce(
  lookup: DestinationContext['network']['lookup'],
  host: string,
): Promise<{ address: string; family: number } | Failure> {
  return new Promise((resolve) => {
    lookup(host, {}, (err, address, family) => {
      if (err) return resolve(classifyConnectError(err));
      const first: LookupAddress | undefined =
        typeof address === 'string' ? { address, family: family ?? 4 } : address[0];
      if (first === undefined) {
        return resolve({
          outcome: 'retryable',
          error: { code: 'ENOTFOUND', message: `no address for ${host}` },
        });
      }
      resolve(first);
    });
  });
}

function timedOut(): Failure {
  return {
    outcome: 'retryable',
    error: { code: 'TIMEOUT', message: 'the syslog receiver did not take the batch in time' },
  };
}

function connectionClosed(): Failure {
  return {
    outcome: 'retryable',
    error: {
      code: 'CONNECTION_CLOSED',
      message: 'the syslog receiver closed the connection before the batch was delivered',
    },
  };
}

function closedError(): DeliveryError {
  return { code: 'DESTINATION_CLOSED', message: 'the destination is closed' };
}
