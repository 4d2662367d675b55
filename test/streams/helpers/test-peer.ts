import { type Static, Type } from '@sinclair/typebox';
import { classifyNetworkError } from '../../../src/destinations/classify.js';
import type {
  Destination,
  DestinationDefinition,
  ItemOutcome,
  OutboundEvent,
  SendResult,
} from '../../../src/destinations/destination.js';

/**
 * A destination that behaves as a test tells it: a `TestPeer` is the receiving side (it records
 * every call and every acknowledged event) and a `Script` decides each answer. `peer.destination()`
 * makes Destination instances bound to it, as `DestinationDefinition.create` would.
 *
 * An answer `'hang'` never answers until the send's signal aborts, then reports what a real HTTP
 * destination reports for an aborted request (`TIMEOUT`, retryable).
 */

export type Answer = SendResult | 'hang';
export type Script = (batch: readonly OutboundEvent[], call: number) => Answer | Promise<Answer>;

export interface PeerLimits {
  readonly maxBatchEvents?: number;
  readonly maxBatchBytes?: number;
  readonly maxEventBytes?: number;
}

export interface PeerCall {
  readonly seqs: readonly number[];
  readonly atMillis: number;
}

export class TestPeer {
  script: Script;
  readonly limits: PeerLimits;
  readonly calls: PeerCall[] = [];
  /** Every acknowledged event, in acknowledgement order (re-sends included). */
  readonly received: OutboundEvent[] = [];
  inFlight = 0;
  maxInFlight = 0;
  opened = 0;
  closed = 0;
  /** Sends whose signal was aborted. */
  aborted = 0;

  constructor(script: Script = deliverAll, limits: PeerLimits = {}) {
    this.script = script;
    this.limits = limits;
  }

  receivedSeqs(): number[] {
    return this.received.map((e) => e.seq);
  }

  destination(): Destination {
    this.opened++;
    let closed = false;
    const destination: Destination = {
      maxBatchEvents: this.limits.maxBatchEvents ?? 1000,
      ...(this.limits.maxBatchBytes === undefined ? {} : { maxBatchBytes: this.limits.maxBatchBytes }),
      ...(this.limits.maxEventBytes === undefined ? {} : { maxEventBytes: this.limits.maxEventBytes }),
      send: (batch, signal) => this.#send(batch, signal),
      close: async () => {
        if (!closed) this.closed++;
        closed = true;
      },
    };
    return destination;
  }

  async #send(batch: readonly OutboundEvent[], signal: AbortSignal): Promise<SendResult> {
    const call = this.calls.length;
    this.calls.push({ seqs: batch.map((e) => e.seq), atMillis: Date.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const answer = await this.script(batch, call);
      if (answer === 'hang') return await untilAborted(signal, () => this.aborted++);
      if (answer.outcome === 'delivered') this.received.push(...batch);
      if (answer.outcome === 'partial') {
        answer.items.forEach((item, i) => {
          if (item.outcome === 'delivered') this.received.push(batch[i] as OutboundEvent);
        });
      }
      return answer;
    } finally {
      this.inFlight--;
    }
  }
}

function untilAborted(signal: AbortSignal, onAbort: () => void): Promise<SendResult> {
  return new Promise((resolve) => {
    const done = (): void => {
      onAbort();
      resolve(classifyNetworkError(signal.reason));
    };
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

// ---- scripts ----

export const DELIVERED: SendResult = { outcome: 'delivered', bytes: 0 };

export const deliverAll: Script = (batch) => ({
  outcome: 'delivered',
  bytes: batch.reduce((n, e) => n + Buffer.byteLength(e.json, 'utf8'), 0),
});

export function retryable(code = 'HTTP_503', retryAfterMillis?: number): SendResult {
  const status = Number(/^HTTP_(\d+)$/.exec(code)?.[1] ?? 503);
  const error = { code, message: `test: ${code}`, status };
  return retryAfterMillis === undefined
    ? { outcome: 'retryable', error }
    : { outcome: 'retryable', error, retryAfterMillis };
}

export function fatal(code = 'HTTP_401'): SendResult {
  const status = Number(/^HTTP_(\d+)$/.exec(code)?.[1] ?? 401);
  return { outcome: 'fatal', error: { code, message: `test: ${code}`, status } };
}

/** The first `times` calls answer `answer`, then `then` decides. */
export function failTimes(times: number, answer: Answer = retryable(), then: Script = deliverAll): Script {
  return (batch, call) => (call < times ? answer : then(batch, call));
}

/** A batch holding a poison event is rejected (400) with an answer naming the first poison seq. */
export function rejectWhere(isPoison: (event: OutboundEvent) => boolean, then: Script = deliverAll): Script {
  return (batch, call) => {
    const poison = batch.find(isPoison);
    if (poison !== undefined) {
      return {
        outcome: 'rejected',
        error: {
          code: 'HTTP_400',
          message: 'test: bad event',
          status: 400,
          response: `{"bad":${poison.seq}}`,
        },
      };
    }
    return then(batch, call);
  };
}

/** Per-event answers for every batch. */
export function partialBy(decide: (event: OutboundEvent, call: number) => ItemOutcome['outcome']): Script {
  return (batch, call) => ({
    outcome: 'partial',
    bytes: 0,
    items: batch.map((event): ItemOutcome => {
      const outcome = decide(event, call);
      if (outcome === 'delivered') return { outcome };
      return {
        outcome,
        error: { code: outcome === 'rejected' ? 'ITEM_REJECTED' : 'ITEM_BUSY', message: `test: ${outcome}` },
      };
    }),
  });
}

// ---- a destination definition for manager tests ----

export const TEST_TYPE = 'test';

export const TestSettingsSchema = Type.Object(
  {
    /** Which TestPeer (by name) receives. */
    peer: Type.String({ minLength: 1 }),
    /** A secret, to test redaction. */
    token: Type.Optional(Type.String()),
    /** A target host checked against the network policy. */
    host: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** A destination type whose instances send to the named peer of `peers`. */
export function testDefinition(
  peers: ReadonlyMap<string, TestPeer>,
): DestinationDefinition<Static<typeof TestSettingsSchema>> {
  return {
    type: TEST_TYPE,
    settingsSchema: TestSettingsSchema,
    secretSettings: ['/token'],
    targets: (settings) => (settings.host === undefined ? [] : [settings.host]),
    create: (settings) => {
      const peer = peers.get(settings.peer);
      if (peer === undefined) throw new Error(`no test peer named ${settings.peer}`);
      return peer.destination();
    },
  };
}
