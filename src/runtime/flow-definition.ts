import { type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ULID_PATTERN } from '../schema/definitions.js';

/**
 * Flow definitions: what the reference runtime runs (docs/runtime.md has the JSON format with an
 * example). A flow is an id, a name, a folder path, a trigger, an optional retry policy, whether its
 * executions are streamed, and a list of cards. Cards are run in order; `if` and `try` hold nested
 * lists. Values in cards are JSON with `{{path}}` templates (template.ts).
 *
 * Every card has an Okta-style address (`root:kernel:string:0.0.1:compose`,
 * `gmail:sendEmail:example:1.0.17`): the default for its type, or its own `address` (a connector
 * card's). Addresses are what events report as `address`.
 */

/** A JSON value; strings may hold `{{path}}` templates. */
export type Value = string | number | boolean | null | readonly Value[] | { readonly [key: string]: Value };

export interface Folder {
  /** ULID (`folder_id` when this is the flow's own folder). */
  readonly id: string;
  readonly name: string;
}

/**
 * How a flow starts. `api_endpoint`: `invoke` / `POST /flows/{id}/invoke` (Okta's API Endpoint
 * event card). `schedule`: every `everyMillis` while the runtime runs. `helper`: only from a `call`
 * card of another flow (Okta's helper flows); its FLOW_START address is
 * `root:kernel:control:0.0.1:callable`.
 */
export type Trigger =
  | { readonly type: 'api_endpoint'; readonly address?: string }
  | {
      readonly type: 'schedule';
      readonly everyMillis: number;
      /** First run this long after start. Default `everyMillis`. */
      readonly firstAfterMillis?: number;
      readonly input?: { readonly [key: string]: Value };
      readonly address?: string;
    }
  | { readonly type: 'helper' };

/** Retry a failing card (flow policy) or a try body (handler policy). */
export interface RetrySettings {
  /** Retries after the first failure (so `attempts + 1` tries in all). */
  readonly attempts: number;
  /** Wait before each retry, in seconds (`retry_delay`). */
  readonly delaySeconds: number;
}

export const TEXT_OPERATIONS = [
  'uppercase',
  'lowercase',
  'capitalize',
  'trim',
  'concatenate',
  'replace',
  'split',
] as const;
export type TextOperation = (typeof TEXT_OPERATIONS)[number];

export const CONDITION_OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'exists',
  'not_exists',
  'greater_than',
  'less_than',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface Condition {
  readonly value: Value;
  readonly operator: ConditionOperator;
  /** Unused by `exists` / `not_exists`. */
  readonly compareTo?: Value;
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

interface CardBase {
  /** Overrides the type's default address (e.g. a connector card's `vendor:method:…:version`). */
  readonly address?: string;
}

/** Text from a template: `"{{input.first}} {{input.last}}"`. */
export interface ComposeCard extends CardBase {
  readonly type: 'compose';
  readonly template: string;
  /** Variable that receives the card's output. */
  readonly as?: string;
}

/**
 * A text function. `value` is the text (for `concatenate` an array of texts); `argument` is the
 * separator (`concatenate`, `split`) or the searched text (`replace`); `replacement` for `replace`.
 */
export interface TextCard extends CardBase {
  readonly type: 'text';
  readonly operation: TextOperation;
  readonly value: Value;
  readonly argument?: Value;
  readonly replacement?: Value;
  readonly as?: string;
}

/** Calls a helper flow and waits for its return value (Okta's Call Flow card). */
export interface CallCard extends CardBase {
  readonly type: 'call';
  readonly flowId: string;
  readonly input?: { readonly [key: string]: Value };
  readonly as?: string;
}

/**
 * A request to a third party. 2xx: output `{ status, body }` (body parsed when JSON). 429: a
 * FLOW_RATE_LIMIT, a backoff of Retry-After (or a jittered exponential one), and a retry, up to
 * `maxRateLimitRetries`. Anything else is a card error (retryable for 5xx, network, timeout).
 */
export interface HttpCard extends CardBase {
  readonly type: 'http';
  readonly method: HttpMethod;
  readonly url: Value;
  readonly headers?: { readonly [key: string]: Value };
  readonly body?: Value;
  /** Default 10000 ms. */
  readonly timeoutMillis?: number;
  /** Default 3. */
  readonly maxRateLimitRetries?: number;
  readonly as?: string;
}

/** Waits a fixed time: FLOW_PAUSE with `pause_duration`, then the flow goes on. */
export interface WaitCard extends CardBase {
  readonly type: 'wait';
  readonly durationMillis: number;
}

/** Pauses until `resume(executionId)` (or cancel): FLOW_PAUSE without `pause_duration`. */
export interface PauseCard extends CardBase {
  readonly type: 'pause';
}

export interface IfCard extends CardBase {
  readonly type: 'if';
  readonly condition: Condition;
  /** Cards run when the condition holds. (Not `then`: an object with `then` is a thenable.) */
  readonly ifTrue: readonly Card[];
  readonly ifFalse?: readonly Card[];
}

/**
 * Runs `body`; when a card in it fails, retries the body (`retry`, events with
 * `retry_policy: handler`) for retryable errors, then runs `catch` with the error in the variable
 * `errorAs` (default `error`: `{ message, code, type }`). The flow goes on after the card.
 */
export interface TryCard extends CardBase {
  readonly type: 'try';
  readonly body: readonly Card[];
  readonly catch: readonly Card[];
  readonly retry?: RetrySettings;
  readonly errorAs?: string;
}

/** Ends the flow with `value` as its output (a helper flow's return value). */
export interface ReturnCard extends CardBase {
  readonly type: 'return';
  readonly value?: Value;
}

/** Ends the flow with an error (not retried): FLOW_FAIL, fatal, unless a try card catches it. */
export interface FailCard extends CardBase {
  readonly type: 'fail';
  readonly message: Value;
  /** Default `FLOW_ERROR`. */
  readonly code?: string;
  /** Default `flow_error`. */
  readonly errorType?: string;
}

export type Card =
  | ComposeCard
  | TextCard
  | CallCard
  | HttpCard
  | WaitCard
  | PauseCard
  | IfCard
  | TryCard
  | ReturnCard
  | FailCard;

export type CardType = Card['type'];

export interface FlowDefinition {
  /** ULID (`flow_id`). */
  readonly id: string;
  readonly name: string;
  /** Folders from the top one down to the flow's own (at least one). */
  readonly folderPath: readonly Folder[];
  /** Okta's per-flow "stream execution logs" switch: when false, no event leaves the runtime. */
  readonly streamExecutionLogs: boolean;
  readonly trigger: Trigger;
  /** The flow's retry policy: a failing card is retried (`retry_policy: flow`). */
  readonly retry?: RetrySettings;
  readonly cards: readonly Card[];
}

/** Default address of each card type (a text card's is `root:kernel:string:0.0.1:<operation>`). */
export const CARD_ADDRESSES: Readonly<Record<Exclude<CardType, 'text'>, string>> = Object.freeze({
  compose: 'root:kernel:string:0.0.1:compose',
  call: 'root:kernel:control:0.0.1:call',
  http: 'root:kernel:http:0.0.1:raw_request',
  wait: 'root:kernel:control:0.0.1:wait_for',
  pause: 'root:kernel:control:0.0.1:pause',
  if: 'root:kernel:branching:0.0.1:if_else',
  try: 'root:kernel:error:0.0.1:try_catch',
  return: 'root:kernel:control:0.0.1:return',
  fail: 'root:kernel:error:0.0.1:return_error',
});

/** FLOW_START address of a helper flow's execution (the seed's example). */
export const HELPER_START_ADDRESS = 'root:kernel:control:0.0.1:callable';

export function cardAddress(card: Card): string {
  if (card.address !== undefined) return card.address;
  if (card.type === 'text') return `root:kernel:string:0.0.1:${card.operation}`;
  return CARD_ADDRESSES[card.type];
}

/**
 * FLOW_START `address`: the trigger's own when it names one; `callable` for a helper flow; else the
 * first card's. The seed's example has an API-endpoint-invoked flow whose FLOW_START address is the
 * compose card it runs first, and a helper flow whose address is `…:callable`.
 */
export function startAddress(flow: FlowDefinition): string {
  const { trigger } = flow;
  if (trigger.type === 'helper') return HELPER_START_ADDRESS;
  if (trigger.address !== undefined) return trigger.address;
  const first = flow.cards[0];
  return first === undefined ? CARD_ADDRESSES.return : cardAddress(first);
}

// --- JSON checking -----------------------------------------------------------------------------

/** Okta-style addresses: at least three colon-separated segments. */
export const ADDRESS_PATTERN = '^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){2,}$';
/** Variable names a card may write (`as`, `errorAs`). */
export const VARIABLE_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

const Address = Type.String({ pattern: ADDRESS_PATTERN });
const Variable = Type.String({ pattern: VARIABLE_PATTERN });
const AnyValue = Type.Unknown();
const ValueMap = Type.Record(Type.String(), Type.Unknown());
/** Nested card lists are checked card by card (better paths and messages than a recursive union). */
const CardList = Type.Array(Type.Unknown());
const Retry = Type.Object(
  {
    attempts: Type.Integer({ minimum: 0, maximum: 100 }),
    delaySeconds: Type.Integer({ minimum: 0, maximum: 86_400 }),
  },
  { additionalProperties: false },
);

function cardSchema(type: CardType, fields: Record<string, TSchema>): TSchema {
  return Type.Object(
    { type: Type.Literal(type), address: Type.Optional(Address), ...fields },
    { additionalProperties: false },
  );
}

const CARD_SCHEMAS: Readonly<Record<CardType, TSchema>> = {
  compose: cardSchema('compose', { template: Type.String(), as: Type.Optional(Variable) }),
  text: cardSchema('text', {
    operation: Type.Union(TEXT_OPERATIONS.map((op) => Type.Literal(op))),
    value: AnyValue,
    argument: Type.Optional(AnyValue),
    replacement: Type.Optional(AnyValue),
    as: Type.Optional(Variable),
  }),
  call: cardSchema('call', {
    flowId: Type.String({ pattern: ULID_PATTERN }),
    input: Type.Optional(ValueMap),
    as: Type.Optional(Variable),
  }),
  http: cardSchema('http', {
    method: Type.Union(HTTP_METHODS.map((m) => Type.Literal(m))),
    url: AnyValue,
    headers: Type.Optional(ValueMap),
    body: Type.Optional(AnyValue),
    timeoutMillis: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
    maxRateLimitRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    as: Type.Optional(Variable),
  }),
  wait: cardSchema('wait', { durationMillis: Type.Integer({ minimum: 0, maximum: 30 * 86_400_000 }) }),
  pause: cardSchema('pause', {}),
  if: cardSchema('if', {
    condition: Type.Object(
      {
        value: AnyValue,
        operator: Type.Union(CONDITION_OPERATORS.map((op) => Type.Literal(op))),
        compareTo: Type.Optional(AnyValue),
      },
      { additionalProperties: false },
    ),
    ifTrue: CardList,
    ifFalse: Type.Optional(CardList),
  }),
  try: cardSchema('try', {
    body: CardList,
    catch: CardList,
    retry: Type.Optional(Retry),
    errorAs: Type.Optional(Variable),
  }),
  return: cardSchema('return', { value: Type.Optional(AnyValue) }),
  fail: cardSchema('fail', {
    message: AnyValue,
    code: Type.Optional(Type.String({ minLength: 1 })),
    errorType: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' })),
  }),
};

const FlowSchema = Type.Object(
  {
    id: Type.String({ pattern: ULID_PATTERN }),
    name: Type.String({ minLength: 1 }),
    folderPath: Type.Array(
      Type.Object(
        { id: Type.String({ pattern: ULID_PATTERN }), name: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    streamExecutionLogs: Type.Boolean(),
    /** Checked per type below, for a message that names the type. */
    trigger: Type.Object({ type: Type.String() }),
    retry: Type.Optional(Retry),
    cards: Type.Array(Type.Unknown(), { minItems: 1 }),
  },
  { additionalProperties: false },
);

const TRIGGER_SCHEMAS: Readonly<Record<Trigger['type'], TSchema>> = {
  api_endpoint: Type.Object(
    { type: Type.Literal('api_endpoint'), address: Type.Optional(Address) },
    { additionalProperties: false },
  ),
  schedule: Type.Object(
    {
      type: Type.Literal('schedule'),
      everyMillis: Type.Integer({ minimum: 1 }),
      firstAfterMillis: Type.Optional(Type.Integer({ minimum: 0 })),
      input: Type.Optional(ValueMap),
      address: Type.Optional(Address),
    },
    { additionalProperties: false },
  ),
  helper: Type.Object({ type: Type.Literal('helper') }, { additionalProperties: false }),
};

const FLOW_CHECK = TypeCompiler.Compile(FlowSchema);
const TRIGGER_CHECKS = Object.fromEntries(
  Object.entries(TRIGGER_SCHEMAS).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
) as Readonly<Record<Trigger['type'], ReturnType<typeof TypeCompiler.Compile>>>;
const CARD_CHECKS = Object.fromEntries(
  Object.entries(CARD_SCHEMAS).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
) as Readonly<Record<CardType, ReturnType<typeof TypeCompiler.Compile>>>;

export interface DefinitionProblem {
  /** JSON Pointer into the checked document (`/0/cards/2/template`). */
  readonly path: string;
  readonly message: string;
}

export type ParseFlowsResult =
  | { readonly ok: true; readonly flows: readonly FlowDefinition[] }
  | { readonly ok: false; readonly problems: readonly DefinitionProblem[] };

/**
 * Checks flow definitions parsed from JSON (one flow object or an array of them): each against the
 * format, then the set as a whole (unique ids; `call` cards name a helper flow of the set).
 * Unknown keys are problems (a typo must not pass silently).
 */
export function parseFlowDefinitions(json: unknown): ParseFlowsResult {
  const list = Array.isArray(json) ? json : [json];
  const prefix = (i: number): string => (Array.isArray(json) ? `/${i}` : '');
  const problems: DefinitionProblem[] = [];
  list.forEach((flow, i) => {
    checkFlow(flow, prefix(i), problems);
  });
  if (problems.length > 0) return { ok: false, problems };
  const flows = list as FlowDefinition[];
  checkFlowSet(flows, prefix, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, flows };
}

function checkFlow(flow: unknown, path: string, problems: DefinitionProblem[]): void {
  if (!FLOW_CHECK.Check(flow)) {
    for (const error of FLOW_CHECK.Errors(flow))
      problems.push({ path: `${path}${error.path}`, message: error.message });
    return;
  }
  const { type } = flow.trigger;
  if (!Object.hasOwn(TRIGGER_CHECKS, type)) {
    problems.push({
      path: `${path}/trigger/type`,
      message: `a trigger's type must be one of ${Object.keys(TRIGGER_SCHEMAS).join(', ')}; got ${JSON.stringify(type)}`,
    });
  } else {
    const check = TRIGGER_CHECKS[type as Trigger['type']];
    for (const error of check.Errors(flow.trigger)) {
      problems.push({ path: `${path}/trigger${error.path}`, message: error.message });
    }
  }
  checkCards(flow.cards, `${path}/cards`, problems);
}

function checkCards(cards: readonly unknown[], path: string, problems: DefinitionProblem[]): void {
  cards.forEach((card, i) => {
    const at = `${path}/${i}`;
    const type = typeof card === 'object' && card !== null ? (card as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !Object.hasOwn(CARD_CHECKS, type)) {
      problems.push({
        path: `${at}/type`,
        message: `a card's type must be one of ${Object.keys(CARD_SCHEMAS).join(', ')}; got ${JSON.stringify(type)}`,
      });
      return;
    }
    const check = CARD_CHECKS[type as CardType];
    if (!check.Check(card)) {
      for (const error of check.Errors(card))
        problems.push({ path: `${at}${error.path}`, message: error.message });
      return;
    }
    const typed = card as Card;
    if (typed.type === 'if') {
      checkCards(typed.ifTrue, `${at}/ifTrue`, problems);
      if (typed.ifFalse !== undefined) checkCards(typed.ifFalse, `${at}/ifFalse`, problems);
    } else if (typed.type === 'try') {
      checkCards(typed.body, `${at}/body`, problems);
      checkCards(typed.catch, `${at}/catch`, problems);
    }
  });
}

/** Cross-flow rules; also used by the runtime for flows built in code. */
export function checkFlowSet(
  flows: readonly FlowDefinition[],
  prefix: (index: number) => string = (i) => `/${i}`,
  problems: DefinitionProblem[] = [],
): DefinitionProblem[] {
  const byId = new Map<string, FlowDefinition>();
  flows.forEach((flow, i) => {
    if (byId.has(flow.id))
      problems.push({ path: `${prefix(i)}/id`, message: `flow id ${flow.id} is used twice` });
    byId.set(flow.id, flow);
  });
  flows.forEach((flow, i) => {
    forEachCard(flow.cards, `${prefix(i)}/cards`, (card, path) => {
      if (card.type !== 'call') return;
      const target = byId.get(card.flowId);
      if (target === undefined) {
        problems.push({ path: `${path}/flowId`, message: `no flow has id ${card.flowId}` });
      } else if (target.trigger.type !== 'helper') {
        problems.push({
          path: `${path}/flowId`,
          message: `flow ${card.flowId} (${target.name}) is not a helper flow; a call card can only call helper flows`,
        });
      }
    });
  });
  return problems;
}

/** Visits every card, nested ones included, with its JSON Pointer. */
export function forEachCard(
  cards: readonly Card[],
  path: string,
  visit: (card: Card, path: string) => void,
): void {
  cards.forEach((card, i) => {
    const at = `${path}/${i}`;
    visit(card, at);
    if (card.type === 'if') {
      forEachCard(card.ifTrue, `${at}/ifTrue`, visit);
      if (card.ifFalse !== undefined) forEachCard(card.ifFalse, `${at}/ifFalse`, visit);
    } else if (card.type === 'try') {
      forEachCard(card.body, `${at}/body`, visit);
      forEachCard(card.catch, `${at}/catch`, visit);
    }
  });
}
