import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The metrics every stream emits (in the manner of Vector's component spec: events sent, bytes
 * sent, errors by type, events dropped), labelled by `stream` (the stream id). A deleted stream's
 * series are removed.
 *
 * - `flowstream_stream_events_delivered_total`: events the destination acknowledged (a re-send
 *   after a crash or a replay counts again).
 * - `flowstream_stream_bytes_sent_total`: bytes the destinations report for acknowledged sends
 *   (by convention the event JSON bytes).
 * - `flowstream_stream_errors_total{type}`: one per failed send, plus one per failed item of a
 *   partial answer; `type` is the class of the error code (see `errorType`).
 * - `flowstream_stream_events_dead_lettered_total`, `flowstream_stream_events_expired_total`.
 * - `flowstream_stream_lag_events`, `flowstream_stream_lag_seconds`: computed at scrape time.
 * - `flowstream_stream_send_duration_seconds`: one observation per `send`, whatever its outcome.
 */

export interface StreamLagSample {
  readonly stream: string;
  readonly lagEvents: number;
  readonly lagSeconds: number;
}

export type LagSource = () => Promise<readonly StreamLagSample[]>;

/**
 * The bounded class of an error code, for the `type` label: `http_4xx`, `http_429`, `http_5xx`,
 * `http_other`, `timeout`, `network`, `too_large`, `invalid_event`, or `destination` (a
 * destination's own protocol code such as `HEC_6`).
 */
export function errorType(code: string): string {
  if (code === 'HTTP_429') return 'http_429';
  const http = /^HTTP_(\d)\d\d$/.exec(code);
  if (http !== null) {
    const family = http[1];
    return family === '4' || family === '5' ? `http_${family}xx` : 'http_other';
  }
  if (code === 'TIMEOUT') return 'timeout';
  if (code === 'EVENT_TOO_LARGE') return 'too_large';
  if (code === 'EVENT_UNPARSEABLE' || code === 'EVENT_NOT_AN_OBJECT') return 'invalid_event';
  if (code === 'NETWORK_ERROR' || /^E[A-Z0-9_]+$/.test(code) || code.startsWith('UND_ERR_')) return 'network';
  return 'destination';
}

export class StreamMetrics {
  readonly #delivered: Counter<'stream'>;
  readonly #bytes: Counter<'stream'>;
  readonly #errors: Counter<'stream' | 'type'>;
  readonly #deadLettered: Counter<'stream'>;
  readonly #expired: Counter<'stream'>;
  readonly #lagEvents: Gauge<'stream'>;
  readonly #lagSeconds: Gauge<'stream'>;
  readonly #sendDuration: Histogram<'stream'>;
  readonly #errorTypes = new Map<string, Set<string>>();
  #lagSource: LagSource = async () => [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.#delivered = new Counter({
      name: 'flowstream_stream_events_delivered_total',
      help: 'Events acknowledged by the stream destination.',
      labelNames: ['stream'],
      registers,
    });
    this.#bytes = new Counter({
      name: 'flowstream_stream_bytes_sent_total',
      help: 'Bytes of events acknowledged by the stream destination.',
      labelNames: ['stream'],
      registers,
    });
    this.#errors = new Counter({
      name: 'flowstream_stream_errors_total',
      help: 'Failed sends (and failed items of partial answers), by error class.',
      labelNames: ['stream', 'type'],
      registers,
    });
    this.#deadLettered = new Counter({
      name: 'flowstream_stream_events_dead_lettered_total',
      help: 'Events put in the stream dead letters.',
      labelNames: ['stream'],
      registers,
    });
    this.#expired = new Counter({
      name: 'flowstream_stream_events_expired_total',
      help: 'Events removed by retention before the stream delivered them.',
      labelNames: ['stream'],
      registers,
    });
    const metrics = this;
    this.#lagEvents = new Gauge({
      name: 'flowstream_stream_lag_events',
      help: 'Events after the stream cursor (an upper bound when the stream filters).',
      labelNames: ['stream'],
      registers,
      async collect() {
        const samples = await metrics.#lagSource();
        this.reset();
        for (const s of samples) this.set({ stream: s.stream }, s.lagEvents);
      },
    });
    this.#lagSeconds = new Gauge({
      name: 'flowstream_stream_lag_seconds',
      help: 'Age of the oldest event the stream has not delivered, in seconds.',
      labelNames: ['stream'],
      registers,
      async collect() {
        const samples = await metrics.#lagSource();
        this.reset();
        for (const s of samples) this.set({ stream: s.stream }, s.lagSeconds);
      },
    });
    this.#sendDuration = new Histogram({
      name: 'flowstream_stream_send_duration_seconds',
      help: 'Duration of one send to the stream destination, in seconds.',
      labelNames: ['stream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
  }

  /** Where the lag gauges read from at scrape time (the stream manager). */
  setLagSource(source: LagSource): void {
    this.#lagSource = source;
  }

  /** Creates the stream's series at zero, so that dashboards see a new stream before its first event. */
  initStream(stream: string): void {
    this.#delivered.inc({ stream }, 0);
    this.#bytes.inc({ stream }, 0);
    this.#deadLettered.inc({ stream }, 0);
    this.#expired.inc({ stream }, 0);
  }

  delivered(stream: string, events: number, bytes: number): void {
    if (events > 0) this.#delivered.inc({ stream }, events);
    if (bytes > 0) this.#bytes.inc({ stream }, bytes);
  }

  error(stream: string, code: string, count = 1): void {
    const type = errorType(code);
    let types = this.#errorTypes.get(stream);
    if (types === undefined) {
      types = new Set();
      this.#errorTypes.set(stream, types);
    }
    types.add(type);
    this.#errors.inc({ stream, type }, count);
  }

  deadLettered(stream: string, events: number): void {
    if (events > 0) this.#deadLettered.inc({ stream }, events);
  }

  expired(stream: string, events: number): void {
    if (events > 0) this.#expired.inc({ stream }, events);
  }

  observeSend(stream: string, seconds: number): void {
    this.#sendDuration.observe({ stream }, seconds);
  }

  removeStream(stream: string): void {
    this.#delivered.remove({ stream });
    this.#bytes.remove({ stream });
    this.#deadLettered.remove({ stream });
    this.#expired.remove({ stream });
    this.#sendDuration.remove({ stream });
    for (const type of this.#errorTypes.get(stream) ?? []) this.#errors.remove({ stream, type });
    this.#errorTypes.delete(stream);
  }
}
