import type {
  Card,
  Condition,
  FlowDefinition,
  Folder,
  HttpMethod,
  RetrySettings,
  TextOperation,
  Trigger,
  Value,
} from './flow-definition.js';

/**
 * A small typed builder for flow definitions (the JSON format is the contract; this only writes it).
 *
 *   const formatName = defineFlow({ id, name: 'Format name', folderPath, trigger: { type: 'helper' } })
 *     .text('capitalize', '{{input.first}}', { as: 'first' })
 *     .compose('{{first}} {{input.last}}', { as: 'full' })
 *     .return({ fullName: '{{full}}' })
 *     .build();
 */

/** Copies `object` without its undefined properties (exactOptionalPropertyTypes). */
function defined<T extends object>(object: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

export interface AddressOption {
  /** A connector card's address, e.g. `gmail:sendEmail:example:1.0.17`. */
  readonly address?: string;
}

export interface OutputOption extends AddressOption {
  /** Variable receiving the card's output. */
  readonly as?: string;
}

export class CardListBuilder {
  readonly #cards: Card[] = [];

  get cards(): readonly Card[] {
    return this.#cards;
  }

  /** Any card, as written in JSON. */
  card(card: Card): this {
    this.#cards.push(card);
    return this;
  }

  compose(template: string, options: OutputOption = {}): this {
    return this.card({ type: 'compose', template, ...defined(options) });
  }

  text(
    operation: TextOperation,
    value: Value,
    options: OutputOption & { readonly argument?: Value; readonly replacement?: Value } = {},
  ): this {
    return this.card({ type: 'text', operation, value, ...defined(options) });
  }

  /** Calls a helper flow (given as its definition or id). */
  call(
    flow: FlowDefinition | string,
    input: { readonly [key: string]: Value } = {},
    options: OutputOption = {},
  ): this {
    return this.card({
      type: 'call',
      flowId: typeof flow === 'string' ? flow : flow.id,
      input,
      ...defined(options),
    });
  }

  http(
    method: HttpMethod,
    url: Value,
    options: OutputOption & {
      readonly headers?: { readonly [key: string]: Value };
      readonly body?: Value;
      readonly timeoutMillis?: number;
      readonly maxRateLimitRetries?: number;
    } = {},
  ): this {
    return this.card({ type: 'http', method, url, ...defined(options) });
  }

  wait(durationMillis: number, options: AddressOption = {}): this {
    return this.card({ type: 'wait', durationMillis, ...defined(options) });
  }

  pause(options: AddressOption = {}): this {
    return this.card({ type: 'pause', ...defined(options) });
  }

  if(
    condition: Condition,
    ifTrue: (cards: CardListBuilder) => void,
    ifFalse?: (cards: CardListBuilder) => void,
    options: AddressOption = {},
  ): this {
    const trueCards = new CardListBuilder();
    ifTrue(trueCards);
    let falseCards: readonly Card[] | undefined;
    if (ifFalse !== undefined) {
      const builder = new CardListBuilder();
      ifFalse(builder);
      falseCards = builder.cards;
    }
    return this.card({
      type: 'if',
      condition,
      ifTrue: trueCards.cards,
      ...defined({ ifFalse: falseCards, ...options }),
    });
  }

  try(
    body: (cards: CardListBuilder) => void,
    handler: (cards: CardListBuilder) => void,
    options: AddressOption & { readonly retry?: RetrySettings; readonly errorAs?: string } = {},
  ): this {
    const bodyCards = new CardListBuilder();
    body(bodyCards);
    const catchCards = new CardListBuilder();
    handler(catchCards);
    return this.card({ type: 'try', body: bodyCards.cards, catch: catchCards.cards, ...defined(options) });
  }

  return(value?: Value, options: AddressOption = {}): this {
    return this.card({ type: 'return', ...defined({ value, ...options }) });
  }

  fail(
    message: Value,
    options: AddressOption & { readonly code?: string; readonly errorType?: string } = {},
  ): this {
    return this.card({ type: 'fail', message, ...defined(options) });
  }
}

export interface FlowInit {
  readonly id: string;
  readonly name: string;
  readonly folderPath: readonly Folder[];
  /** Default `{ type: 'api_endpoint' }`. */
  readonly trigger?: Trigger;
  /** Default true. */
  readonly streamExecutionLogs?: boolean;
  readonly retry?: RetrySettings;
}

export class FlowBuilder extends CardListBuilder {
  readonly #init: FlowInit;

  constructor(init: FlowInit) {
    super();
    this.#init = init;
  }

  build(): FlowDefinition {
    const init = this.#init;
    return {
      id: init.id,
      name: init.name,
      folderPath: init.folderPath,
      streamExecutionLogs: init.streamExecutionLogs ?? true,
      trigger: init.trigger ?? { type: 'api_endpoint' },
      ...defined({ retry: init.retry }),
      cards: [...this.cards],
    };
  }
}

export function defineFlow(init: FlowInit): FlowBuilder {
  return new FlowBuilder(init);
}
