/**
 * `flowstream validate [--strict] [--json] FILE|-` (SPEC §2): checks every event of an NDJSON file or a
 * JSON array against the event contract and prints one line per problem.
 *
 * Input: the first non-whitespace character decides the format: "[" is a JSON array, anything else
 * NDJSON. A UTF-8 byte order mark is skipped. Both formats are read as a stream in constant memory:
 * NDJSON line by line (blank lines skipped, CRLF accepted, a last line without newline accepted); a
 * JSON array by a tokenizer that cuts it into elements without parsing the whole. A line or element
 * longer than `maxRecordChars` (default 1 MiB) is reported (FS_LINE_TOO_LONG) and skipped, unparsed.
 * A line that is not JSON is reported (FS_JSON_SYNTAX) and the next line is checked. A malformed array
 * (missing comma, data after "]", unclosed) is reported (FS_ARRAY_SYNTAX) and the rest is not checked:
 * without the structure there is no telling where the next element starts.
 *
 * Output (stdout): text, one line per problem: `line N: /pointer: message` (the pointer is empty for a
 * problem with the whole line; N is the line where the array element starts); or with --json one JSON
 * document, written as it goes:
 *   {"mode":"strict","problems":[{"line":N,"index":I,"path":"/x","code":"FS_…","message":"…"},…],
 *    "summary":{"events":E,"valid":V,"invalid":X,"problems":P},"ok":true|false}
 * `index` is the 0-based position of the event among the records (non-blank lines or elements); it is
 * null for problems of the array structure. A one-line summary goes to stderr in text mode.
 * Exit code: 0 every event valid, 1 some problem, 2 usage or I/O error.
 */
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Command, InvalidArgumentError } from 'commander';
import type { EventErrorCode } from '../schema/error-codes.js';
import { type ValidationMode, validateEvent } from '../schema/validate.js';
import { CliError } from './cli-error.js';

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_IO_ERROR = 2;

/** Longest NDJSON line or array element checked, in UTF-16 code units (≈ bytes for ASCII JSON). */
export const DEFAULT_MAX_RECORD_CHARS = 1024 * 1024;

export interface ValidateOptions {
  readonly strict?: boolean;
  readonly json?: boolean;
  /** Default: DEFAULT_MAX_RECORD_CHARS. */
  readonly maxRecordChars?: number;
  /** Names the input in I/O error messages. Default: "the input". */
  readonly sourceName?: string;
}

export interface Problem {
  readonly line: number;
  /** 0-based position of the record; null for problems of the JSON array's structure. */
  readonly index: number | null;
  readonly path: string;
  readonly code: EventErrorCode;
  readonly message: string;
}

/** What a splitter produces: the text of one record, or a problem found while cutting records. */
type Piece =
  | { readonly kind: 'record'; readonly line: number; readonly text: string }
  | { readonly kind: 'too-long'; readonly line: number }
  | { readonly kind: 'structure'; readonly line: number; readonly message: string };

interface Splitter {
  /** Consumes text; appends what it completed to `out`. */
  push(text: string, out: Piece[]): void;
  end(out: Piece[]): void;
}

const LF = 10;
const CR = 13;

function isJsonWhitespace(c: number): boolean {
  return c === 32 || c === LF || c === CR || c === 9;
}

/** NDJSON: one record per line. Lines are cut with indexOf on decoded text (fast path: one chunk). */
class NdjsonSplitter implements Splitter {
  private carry = '';
  private overflow = false;
  private line: number;

  constructor(
    firstLine: number,
    private readonly maxChars: number,
  ) {
    this.line = firstLine;
  }

  push(text: string, out: Piece[]): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        this.append(text.slice(start));
        return;
      }
      if (this.carry === '' && !this.overflow) {
        this.emit(text.slice(start, nl), out);
      } else {
        this.append(text.slice(start, nl));
        this.emit(this.carry, out);
      }
      this.carry = '';
      this.overflow = false;
      this.line++;
      start = nl + 1;
    }
  }

  end(out: Piece[]): void {
    if (this.carry !== '' || this.overflow) this.emit(this.carry, out);
    this.carry = '';
  }

  private append(piece: string): void {
    if (this.overflow) return;
    if (this.carry.length + piece.length > this.maxChars + 1) {
      // +1: the "\r" of a CRLF line at exactly the limit does not count.
      this.overflow = true;
      this.carry = '';
    } else {
      this.carry += piece;
    }
  }

  private emit(raw: string, out: Piece[]): void {
    if (this.overflow) {
      out.push({ kind: 'too-long', line: this.line });
      return;
    }
    const text = raw.charCodeAt(raw.length - 1) === CR ? raw.slice(0, -1) : raw;
    if (text.length > this.maxChars) {
      out.push({ kind: 'too-long', line: this.line });
      return;
    }
    if (isBlank(text)) return;
    out.push({ kind: 'record', line: this.line, text });
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isJsonWhitespace(text.charCodeAt(i))) return false;
  return true;
}

enum ArrayState {
  BeforeArray,
  ValueOrEnd,
  Value,
  InValue,
  CommaOrEnd,
  AfterArray,
  Stopped,
}

/**
 * A JSON array cut into element texts without parsing it whole. It tracks only what decides where an
 * element ends: string boundaries (with escapes) and bracket depth (not bracket kinds, so memory stays
 * constant however deep the nesting); JSON.parse checks each element. A mismatched bracket
 * (`{"a":1]}`) therefore ends the element early: that element is a syntax error and what follows it
 * an array syntax error.
 */
class JsonArraySplitter implements Splitter {
  private state = ArrayState.BeforeArray;
  private line: number;
  private elementLine = 0;
  private parts: string[] = [];
  private partsLength = 0;
  private overflow = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The element is a bare scalar (number, true, false, null or garbage): it ends at whitespace, "," or "]". */
  private scalar = false;

  constructor(
    firstLine: number,
    private readonly maxChars: number,
  ) {
    this.line = firstLine;
  }

  push(text: string, out: Piece[]): void {
    const n = text.length;
    let i = 0;
    let elementStart = this.state === ArrayState.InValue ? 0 : -1;
    // Next positions ≥ i of '"', '\\' and '\n' in this chunk (n: none); -1: not searched yet.
    let nextQuote = -1;
    let nextBackslash = -1;
    let nextNewline = -1;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case ArrayState.InValue: {
          if (this.inString) {
            if (this.escaped) {
              this.escaped = false;
              if (c === LF) this.line++;
              i++;
              break;
            }
            // Most of an array's text is inside strings: jump to the next quote or backslash with
            // indexOf (positions cached per chunk, so each is searched for once per occurrence)
            // and count the raw newlines skipped over (invalid JSON, but line numbers stay right).
            if (nextQuote < i) nextQuote = find(text, '"', i);
            if (nextBackslash < i) nextBackslash = find(text, '\\', i);
            const stop = Math.min(nextQuote, nextBackslash);
            if (nextNewline < i) nextNewline = find(text, '\n', i);
            while (nextNewline < stop) {
              this.line++;
              nextNewline = find(text, '\n', nextNewline + 1);
            }
            i = stop;
            if (i === n) break;
            if (stop === nextBackslash) {
              this.escaped = true;
              i++;
              break;
            }
            this.inString = false;
            i++;
            if (this.depth === 0) {
              this.keep(text, elementStart, i);
              this.finishElement(out);
            }
            break;
          }
          if (this.scalar) {
            if (isJsonWhitespace(c) || c === 44 /* , */ || c === 93 /* ] */) {
              this.keep(text, elementStart, i);
              this.finishElement(out);
              break; // the terminator is handled in CommaOrEnd
            }
            i++;
            break;
          }
          if (c === 34) this.inString = true;
          else if (c === 123 /* { */ || c === 91 /* [ */) this.depth++;
          else if (c === 125 /* } */ || c === 93 /* ] */) {
            this.depth--;
            if (this.depth === 0) {
              this.keep(text, elementStart, i + 1);
              this.finishElement(out);
            }
          } else if (c === LF) this.line++;
          i++;
          break;
        }
        case ArrayState.BeforeArray:
        case ArrayState.ValueOrEnd:
        case ArrayState.Value:
        case ArrayState.CommaOrEnd:
        case ArrayState.AfterArray: {
          if (c === LF) {
            this.line++;
            i++;
            break;
          }
          if (isJsonWhitespace(c)) {
            i++;
            break;
          }
          if (this.state === ArrayState.BeforeArray) {
            // The caller only hands over input whose first non-whitespace character is "[".
            this.state = ArrayState.ValueOrEnd;
            i++;
          } else if (this.state === ArrayState.AfterArray) {
            this.stop(out, 'unexpected data after the closing "]" of the JSON array');
          } else if (this.state === ArrayState.CommaOrEnd) {
            if (c === 44) this.state = ArrayState.Value;
            else if (c === 93) this.state = ArrayState.AfterArray;
            else this.stop(out, `expected "," or "]" after the array element, got ${describeChar(text, i)}`);
            i++;
          } else if (c === 93 && this.state === ArrayState.ValueOrEnd) {
            this.state = ArrayState.AfterArray;
            i++;
          } else if (c === 93 || c === 44) {
            this.stop(out, `expected an array element after ",", got ${describeChar(text, i)}`);
          } else {
            this.state = ArrayState.InValue;
            this.elementLine = this.line;
            elementStart = i;
            this.depth = 0;
            this.inString = c === 34;
            this.escaped = false;
            this.scalar = c !== 34 && c !== 123 && c !== 91;
            if (!this.scalar && !this.inString) this.depth = 1;
            i++;
          }
          break;
        }
        case ArrayState.Stopped:
          return;
      }
      // (The cast: TypeScript keeps the narrowing of the switch on this.state; stop() changed it.)
      if ((this.state as ArrayState) === ArrayState.Stopped) return;
    }
    if (this.state === ArrayState.InValue) this.keep(text, elementStart, n);
  }

  end(out: Piece[]): void {
    if (this.state === ArrayState.InValue && this.scalar) this.finishElement(out);
    if (this.state !== ArrayState.AfterArray && this.state !== ArrayState.Stopped) {
      this.stop(out, 'the input ended before the JSON array was closed with "]"');
    }
  }

  private keep(text: string, from: number, to: number): void {
    if (this.overflow || to <= from) return;
    if (this.partsLength + (to - from) > this.maxChars) {
      this.overflow = true;
      this.parts = [];
      this.partsLength = 0;
      return;
    }
    this.parts.push(text.slice(from, to));
    this.partsLength += to - from;
  }

  private finishElement(out: Piece[]): void {
    if (this.overflow) out.push({ kind: 'too-long', line: this.elementLine });
    else out.push({ kind: 'record', line: this.elementLine, text: this.parts.join('') });
    this.parts = [];
    this.partsLength = 0;
    this.overflow = false;
    this.state = ArrayState.CommaOrEnd;
  }

  private stop(out: Piece[], message: string): void {
    out.push({ kind: 'structure', line: this.line, message });
    this.state = ArrayState.Stopped;
    this.parts = [];
  }
}

function find(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  return at < 0 ? text.length : at;
}

function describeChar(text: string, i: number): string {
  const ch = String.fromCodePoint(text.codePointAt(i) ?? 0xfffd);
  return JSON.stringify(ch);
}

/**
 * Decides the format from the first non-whitespace character, then hands text to the splitter.
 * Whitespace before it is only counted (line numbers), never kept.
 */
class InputReader {
  private splitter: Splitter | undefined;
  private lineBeforeFirst = 1;
  private atStart = true;

  constructor(private readonly maxChars: number) {}

  push(text: string, out: Piece[]): void {
    let t = text;
    if (this.atStart && t.length > 0) {
      this.atStart = false;
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    }
    if (this.splitter === undefined) {
      let i = 0;
      while (i < t.length && isJsonWhitespace(t.charCodeAt(i))) {
        if (t.charCodeAt(i) === LF) this.lineBeforeFirst++;
        i++;
      }
      if (i === t.length) return;
      this.splitter =
        t.charCodeAt(i) === 91 /* [ */
          ? new JsonArraySplitter(this.lineBeforeFirst, this.maxChars)
          : new NdjsonSplitter(this.lineBeforeFirst, this.maxChars);
      t = t.slice(i);
    }
    this.splitter.push(t, out);
  }

  end(out: Piece[]): void {
    this.splitter?.end(out);
  }
}

interface Totals {
  events: number;
  valid: number;
  invalid: number;
  problems: number;
}

/** Renders problems as text or as the streamed JSON document, with back-pressure on `out`. */
class Reporter {
  private buffered = '';
  private firstProblem = true;
  readonly totals: Totals = { events: 0, valid: 0, invalid: 0, problems: 0 };

  constructor(
    private readonly out: Writable,
    private readonly json: boolean,
    private readonly mode: ValidationMode,
  ) {}

  start(): void {
    if (this.json) this.buffered += `{"mode":${JSON.stringify(this.mode)},"problems":[`;
  }

  problem(p: Problem): void {
    this.totals.problems++;
    if (this.json) {
      this.buffered += `${this.firstProblem ? '\n' : ',\n'}${JSON.stringify(p)}`;
      this.firstProblem = false;
    } else {
      this.buffered += `line ${p.line}: ${p.path}: ${p.message}\n`;
    }
  }

  finish(ioError: string | undefined): void {
    if (!this.json) return;
    const ok = ioError === undefined && this.totals.problems === 0;
    const error = ioError === undefined ? '' : `,"ioError":${JSON.stringify(ioError)}`;
    this.buffered += `${this.firstProblem ? '' : '\n'}],"summary":${JSON.stringify(this.totals)}${error},"ok":${ok}}\n`;
  }

  /** Writes what is buffered once it is large (or always, with `force`), waiting while `out` is full. */
  async flush(force: boolean): Promise<void> {
    if (this.buffered.length === 0 || (!force && this.buffered.length < 64 * 1024)) return;
    const text = this.buffered;
    this.buffered = '';
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}

function check(piece: Piece, index: number, mode: ValidationMode, reporter: Reporter): void {
  if (piece.kind === 'structure') {
    reporter.problem({
      line: piece.line,
      index: null,
      path: '',
      code: 'FS_ARRAY_SYNTAX',
      message: `${cap(piece.message)}.`,
    });
    return;
  }
  reporter.totals.events++;
  if (piece.kind === 'too-long') {
    reporter.totals.invalid++;
    reporter.problem({
      line: piece.line,
      index,
      path: '',
      code: 'FS_LINE_TOO_LONG',
      message: 'The event is longer than the limit of the validate command and was skipped.',
    });
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(piece.text);
  } catch (err: unknown) {
    reporter.totals.invalid++;
    // JSON.parse quotes the input in its message: keep control characters from breaking the line.
    const reason = printable(err instanceof Error ? err.message : String(err));
    reporter.problem({
      line: piece.line,
      index,
      path: '',
      code: 'FS_JSON_SYNTAX',
      message: `This is not valid JSON (${reason.length > 160 ? `${reason.slice(0, 160)}…` : reason}).`,
    });
    return;
  }
  const result = validateEvent(value, mode);
  if (result.ok) {
    reporter.totals.valid++;
    return;
  }
  reporter.totals.invalid++;
  for (const issue of result.errors) reporter.problem({ line: piece.line, index, ...issue });
}

function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out +=
      c < 0x20 || c === 0x7f || c === 0x2028 || c === 0x2029 ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The validate command without the process: reads `input` to its end, writes the report to `out` and
 * the text-mode summary or an I/O error sentence to `err`. Resolves to the exit code; never rejects.
 */
export async function runValidate(
  options: ValidateOptions,
  input: Readable,
  out: Writable,
  err: Writable = process.stderr,
): Promise<number> {
  const mode: ValidationMode = options.strict === true ? 'strict' : 'lenient';
  const json = options.json === true;
  const reporter = new Reporter(out, json, mode);
  const reader = new InputReader(options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS);
  const decoder = new StringDecoder('utf8');
  const pieces: Piece[] = [];
  let index = 0;
  let outError: unknown;
  const onOutError = (e: unknown) => {
    outError = e;
  };
  out.on('error', onOutError);
  const drain = () => {
    for (const piece of pieces) {
      check(piece, index, mode, reporter);
      if (piece.kind !== 'structure') index++;
    }
    pieces.length = 0;
  };
  let ioError: string | undefined;
  try {
    reporter.start();
    for await (const chunk of input) {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
      reader.push(text, pieces);
      drain();
      await reporter.flush(false);
      if (outError !== undefined) break;
    }
    reader.push(decoder.end(), pieces);
    reader.end(pieces);
    drain();
  } catch (e: unknown) {
    ioError = `cannot read ${options.sourceName ?? 'the input'}: ${ioReason(e)}`;
  }
  try {
    reporter.finish(ioError);
    if (outError === undefined) await reporter.flush(true);
  } catch (e: unknown) {
    outError ??= e;
  } finally {
    out.off('error', onOutError);
  }
  if (outError !== undefined) {
    err.write(`flowstream validate: cannot write the report: ${ioReason(outError)}.\n`);
    return EXIT_IO_ERROR;
  }
  if (ioError !== undefined) {
    err.write(`flowstream validate: ${ioError}.\n`);
    return EXIT_IO_ERROR;
  }
  const t = reporter.totals;
  if (!json) {
    const events = t.events === 1 ? '1 event' : `${t.events} events`;
    const detail =
      t.problems === 0
        ? 'all valid'
        : `${t.valid} valid, ${t.invalid} invalid, ${t.problems} problem${t.problems === 1 ? '' : 's'}`;
    err.write(`flowstream validate: ${events} (${mode}): ${detail}.\n`);
  }
  return t.problems === 0 ? EXIT_VALID : EXIT_INVALID;
}

function ioReason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EPIPE') return 'the reader went away';
  return e instanceof Error ? e.message : String(e);
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('it must be a whole number of characters ≥ 1.');
  }
  return n;
}

/** `flowstream validate [--strict] [--json] FILE|-`. */
export function validateCommand(): Command {
  return new Command('validate')
    .description(
      'validate events: NDJSON (one event per line) or a JSON array, from FILE or "-" (stdin). ' +
        'Prints "line N: /pointer: message" per problem. Exit 0: all valid, 1: some invalid, 2: usage or I/O error.',
    )
    .argument('<file>', 'the file to check, or "-" for standard input')
    .option('--strict', 'enforce the documented formats and types (default: lenient, as ingest accepts)')
    .option(
      '--json',
      'print one JSON document: {mode, problems: [{line, index, path, code, message}], summary, ok}',
    )
    .option(
      '--max-line-chars <n>',
      `longest line or array element checked; longer ones are reported and skipped (default ${DEFAULT_MAX_RECORD_CHARS})`,
      parsePositiveInteger,
    )
    .action(async (file: string, opts: { strict?: boolean; json?: boolean; maxLineChars?: number }) => {
      const options: ValidateOptions = {
        strict: opts.strict === true,
        json: opts.json === true,
        maxRecordChars: opts.maxLineChars ?? DEFAULT_MAX_RECORD_CHARS,
        sourceName: file === '-' ? 'standard input' : file,
      };
      let input: Readable;
      if (file === '-') {
        input = process.stdin;
      } else {
        try {
          const handle = await open(file, 'r');
          input = handle.createReadStream({ highWaterMark: 256 * 1024 });
        } catch (e: unknown) {
          throw new CliError(`cannot read ${file}: ${ioReason(e)}`, EXIT_IO_ERROR);
        }
      }
      process.exitCode = await runValidate(options, input, process.stdout, process.stderr);
    });
}
