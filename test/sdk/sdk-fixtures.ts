import type { SdkErrorReport } from '../../src/sdk/errors.js';
import type { FlowRef, UserRef } from '../../src/sdk/execution-handle.js';
import type { ExecutionLogOptions } from '../../src/sdk/execution-log.js';
import { ExecutionLog } from '../../src/sdk/execution-log.js';
import type { EventSink } from '../../src/sdk/sinks/event-sink.js';
import { MemorySink } from '../../src/sdk/sinks/memory-sink.js';

/** Deterministic clocks, UUIDs and org/flow/user values for SDK tests. */

export const ORG = {
  id: '01J29TH3XHECT79M257GG2QTKJ',
  name: 'logstream-01',
  hostname: 'atko.okta.com',
} as const;
export const USER: UserRef = { id: '01J29TRZDZKSY6V70GATDAHN2N', email: 'jessie.doe@example.corp' };

export const PARENT_FLOW: FlowRef = {
  id: '01J29TGKQERR78AD3VN0P9DPSW',
  name: 'PDV Log Streaming',
  folder: {
    id: '01J2CT9EN0Q26F3BX8YMWE1EDX',
    idPath: ['01J2CT7B5P5DFHKFDE85FW6BTV', '01J2CT9EN0Q26F3BX8YMWE1EDX'],
    names: ['My parent folder', 'My child folder'],
  },
};

export const HELPER_FLOW: FlowRef = {
  id: '01J29TTH757HFCK5FPMCRCT6A3',
  name: '2. Simple Helper flow ',
  folder: {
    id: '01J2CT7B5P5DFHKFDE85FW6BTV',
    idPath: ['01J2CT7B5P5DFHKFDE85FW6BTV'],
    names: ['My parent folder'],
  },
};

export const GRANDCHILD_FLOW: FlowRef = {
  id: '01J29TTS7X37QSTKPJBGS52ENF',
  name: 'Grandchild',
  folder: { id: '01J2CT7B5P5DFHKFDE85FW6BTV', idPath: [], names: ['My parent folder'] },
};

/** UUIDs 00000000-0000-4000-8000-000000000001, …02, … in call order. */
export function sequentialUuids(): () => string {
  let n = 0;
  return () => {
    n++;
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  };
}

export interface FakeClock {
  readonly now: () => number;
  readonly monotonicNow: () => number;
  /** Moves both clocks forward. */
  advance(millis: number): void;
}

export function fakeClock(startIso = '2024-04-04T18:30:38.730Z'): FakeClock {
  let wall = Date.parse(startIso);
  let mono = 1000.25;
  return {
    now: () => wall,
    monotonicNow: () => mono,
    advance(millis) {
      wall += millis;
      mono += millis;
    },
  };
}

export interface Harness {
  readonly log: ExecutionLog;
  readonly sink: MemorySink;
  readonly clock: FakeClock;
  readonly errors: SdkErrorReport[];
}

export function harness(options: Partial<ExecutionLogOptions> = {}): Harness {
  const sink = new MemorySink();
  const clock = fakeClock();
  const errors: SdkErrorReport[] = [];
  const log = new ExecutionLog({
    org: ORG,
    sink: (options.sink as EventSink | undefined) ?? sink,
    now: clock.now,
    monotonicNow: clock.monotonicNow,
    randomUUID: sequentialUuids(),
    onError: (report) => errors.push(report),
    ...options,
  });
  return { log, sink, clock, errors };
}
