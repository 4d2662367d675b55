import type { FlowEvent } from '../../schema/definitions.js';
import type { EventSink, SinkStats } from './event-sink.js';
import { EMPTY_SINK_STATS } from './event-sink.js';

export interface MemorySinkOptions {
  /** Most events kept; once reached, new events are dropped and counted. Default: unbounded. */
  readonly maxEvents?: number;
}

/**
 * Records events in memory, in emit order: for tests and for embedding (the demo's live view).
 * Every recorded event counts as accepted.
 */
export class MemorySink implements EventSink {
  readonly #events: FlowEvent[] = [];
  readonly #maxEvents: number;
  #stats: { -readonly [K in keyof SinkStats]: SinkStats[K] } = { ...EMPTY_SINK_STATS };
  #closed = false;

  constructor(options: MemorySinkOptions = {}) {
    this.#maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
  }

  /** The recorded events (the sink's own array: read, do not mutate). */
  get events(): readonly FlowEvent[] {
    return this.#events;
  }

  emit(event: FlowEvent): void {
    this.#stats.emittedTotal++;
    if (this.#closed || this.#events.length >= this.#maxEvents) {
      this.#stats.droppedTotal++;
      return;
    }
    this.#events.push(event);
    this.#stats.sentTotal++;
    this.#stats.acceptedTotal++;
  }

  /** Forgets the recorded events (counters stay). */
  clear(): void {
    this.#events.length = 0;
  }

  async flush(): Promise<void> {}

  async shutdown(): Promise<void> {
    this.#closed = true;
  }

  stats(): SinkStats {
    return { ...this.#stats };
  }
}
