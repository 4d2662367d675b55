import type { Condition, Value } from './flow-definition.js';

/**
 * Values in cards: JSON where strings may hold `{{path}}` references to the execution's variables
 * (`input` is the flow's input; each card's `as` adds one). A string that is exactly one reference
 * yields the referenced value itself (an object stays an object); otherwise each reference is
 * replaced by its text. A path that leads nowhere is absent: empty text, or `undefined` alone.
 */

export type Scope = Readonly<Record<string, unknown>>;

const REFERENCE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
const WHOLE_REFERENCE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}$/;

/** `a.b.0.c` in `scope`; undefined when any step is missing. Own properties only. */
export function resolvePath(scope: Scope, path: string): unknown {
  let current: unknown = scope;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Text of a value as a compose card prints it. */
export function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function renderTemplate(template: string, scope: Scope): string {
  return template.replace(REFERENCE, (_match, path: string) => toText(resolvePath(scope, path)));
}

export function renderValue(value: Value | undefined, scope: Scope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_REFERENCE.exec(value);
    if (whole !== null) return resolvePath(scope, whole[1] as string);
    return renderTemplate(value, scope);
  }
  if (Array.isArray(value)) return value.map((item: Value) => renderValue(item, scope));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = renderValue(item as Value, scope);
    return out;
  }
  return value;
}

function comparable(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const text = toText(value);
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}

/** Okta-like comparisons: numbers compare as numbers (also when given as text), the rest as text. */
export function evaluateCondition(condition: Condition, scope: Scope): boolean {
  const value = renderValue(condition.value, scope);
  const other = renderValue(condition.compareTo, scope);
  switch (condition.operator) {
    case 'exists':
      return value !== undefined && value !== null && value !== '';
    case 'not_exists':
      return value === undefined || value === null || value === '';
    case 'equals':
      return comparable(value) === comparable(other);
    case 'not_equals':
      return comparable(value) !== comparable(other);
    case 'contains':
      return Array.isArray(value)
        ? value.some((item) => comparable(item) === comparable(other))
        : toText(value).includes(toText(other));
    case 'greater_than':
      return comparable(value) > comparable(other);
    case 'less_than':
      return comparable(value) < comparable(other);
  }
}
