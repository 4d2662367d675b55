import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runValidate, type ValidateOptions } from '../../src/cli/validate.js';
import { SEED_EXAMPLES, strictEvent } from '../schema/seed-fixtures.js';

class Collector extends Writable {
  text = '';
  constructor(
    highWaterMark = 16 * 1024,
    private readonly delayMillis = 0,
  ) {
    super({ highWaterMark, decodeStrings: false });
  }
  override _write(chunk: unknown, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.text += String(chunk);
    if (this.delayMillis > 0) setTimeout(done, this.delayMillis).unref();
    else done();
  }
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(
  input: string | Buffer | readonly (string | Buffer)[],
  options: ValidateOptions = {},
): Promise<Run> {
  const chunks = typeof input === 'string' || Buffer.isBuffer(input) ? [input] : input;
  const out = new Collector();
  const err = new Collector();
  const code = await runValidate(
    options,
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))),
    out,
    err,
  );
  return { code, out: out.text, err: err.text };
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');
const seedNdjson = `${Object.values(SEED_EXAMPLES)
  .map((e) => JSON.stringify(e))
  .join('\n')}\n`;

describe('runValidate on NDJSON', () => {
  test('the seed examples are valid in lenient mode', async () => {
    const r = await run(seedNdjson);
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.equal(r.err, 'flowstream validate: 4 events (lenient): all valid.\n');
  });

  test('strict mode prints one line per problem: line N: /pointer: message', async () => {
    const r = await run(seedNdjson, { strict: true });
    assert.equal(r.code, 1);
    const out = lines(r.out);
    assert.equal(out.length, 9 + 8 + 11 + 10);
    assert.equal(
      out[0],
      'line 1: /flow_id: flow_id must be a 26-character ULID (upper-case Crockford base32) such as "01J29TGKQERR78AD3VN0P9DPSW", got "632567".',
    );
    assert.ok(
      out.includes(
        'line 3: /parent_flow_id: parent_flow_id must be a 26-character ULID (upper-case Crockford base32) such as "01J29TTH757HFCK5FPMCRCT6A3", got "0ff53d44-7c49-4dcd-ae8a-b16fc5a5a5d2".',
      ),
    );
    assert.ok(
      out.includes('line 4: /org_hostname: org_hostname is required in strict validation but is missing.'),
    );
    assert.match(r.err, /4 events \(strict\): 0 valid, 4 invalid, 38 problems\.\n$/);
  });

  test('blank lines, CRLF, a BOM and a last line without newline', async () => {
    const e = JSON.stringify(strictEvent('FLOW_START'));
    const r = await run(`\uFEFF\r\n\n${e}\r\n   \r\n\t\n${e}\r\n{"event_type":1}`, { strict: true });
    assert.equal(r.code, 1);
    assert.deepEqual(
      lines(r.out).map((l) => l.split(': ').slice(0, 2).join(': ')),
      [
        'line 7: /event_type',
        'line 7: /execution_id',
        ...lines(r.out)
          .slice(2)
          .map((l) => l.split(': ').slice(0, 2).join(': ')),
      ],
    );
    assert.match(r.err, /3 events \(strict\): 2 valid, 1 invalid/);
  });

  test('broken lines are reported by number and the next lines are still checked', async () => {
    const good = JSON.stringify(strictEvent('FLOW_PAUSE'));
    const r = await run(`${good}\n{"event_type": "FLOW_START",\n${good}\nnull\n{"a":1} {"b":2}\n${good}\n`, {
      json: true,
    });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.out) as {
      problems: Array<{ line: number; index: number; code: string }>;
      summary: unknown;
      ok: boolean;
    };
    assert.deepEqual(
      doc.problems.map((p) => [p.line, p.index, p.code]),
      [
        [2, 1, 'FS_JSON_SYNTAX'],
        [4, 3, 'FS_NOT_OBJECT'],
        [5, 4, 'FS_JSON_SYNTAX'],
      ],
    );
    assert.deepEqual(doc.summary, { events: 6, valid: 3, invalid: 3, problems: 3 });
    assert.equal(doc.ok, false);
  });

  test('a line over the limit is reported once, not parsed, and the next line is checked', async () => {
    const good = JSON.stringify(strictEvent('FLOW_PAUSE'));
    const huge = `{"event_type":"FLOW_START","pad":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    // Delivered in small chunks, so the limit is hit while the line is still arriving.
    const text = `${good}\n${huge}\n${good}\n{"x":1}\n`;
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += 65_536) chunks.push(text.slice(i, i + 65_536));
    const r = await run(chunks);
    assert.equal(r.code, 1);
    assert.deepEqual(lines(r.out), [
      'line 2: : The event is longer than the limit of the validate command and was skipped.',
      'line 4: /event_type: event_type is required but is missing.',
      ...lines(r.out).slice(2),
    ]);
    const small = await run(`${good}\n${good}\r\n`, { maxRecordChars: good.length });
    assert.equal(small.code, 0, 'a line of exactly the limit (CRLF or not) is checked');
    const over = await run(`${good}x\n`, { maxRecordChars: good.length });
    assert.match(over.out, /^line 1: : The event is longer than the limit/);
  });

  test('an empty input, or only whitespace, has no events and is valid', async () => {
    for (const input of ['', '\n\n  \r\n', '\uFEFF']) {
      const r = await run(input);
      assert.equal(r.code, 0);
      assert.equal(r.err, 'flowstream validate: 0 events (lenient): all valid.\n');
    }
    const json = await run('', { json: true });
    assert.deepEqual(JSON.parse(json.out), {
      mode: 'lenient',
      problems: [],
      summary: { events: 0, valid: 0, invalid: 0, problems: 0 },
      ok: true,
    });
  });

  test('binary garbage is reported, never thrown', async () => {
    const bytes = Buffer.alloc(300_000);
    let seed = 42;
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = (seed >>> 16) & 0xff;
    }
    bytes[0] = 0x78; // not "[": checked as NDJSON, line by line
    const r = await run([bytes.subarray(0, 1000), bytes.subarray(1000)]);
    assert.equal(r.code, 1);
    assert.ok(lines(r.out).length > 1000, 'one problem per garbage line');
    for (const line of lines(r.out)) assert.match(line, /^line \d+: .*: .+\.$/);
    const withNul = await run(Buffer.from([0, 0, 10, 0xff, 0xfe, 10]));
    assert.equal(withNul.code, 1);
  });
});

describe('runValidate on a JSON array', () => {
  test('the seed examples pretty-printed: valid, problems at the line where each element starts', async () => {
    const text = JSON.stringify(Object.values(SEED_EXAMPLES), null, 2);
    assert.equal((await run(text)).code, 0);
    const r = await run(text, { strict: true });
    assert.equal(r.code, 1);
    const starts = [...new Set(lines(r.out).map((l) => Number(/^line (\d+):/.exec(l)?.[1])))];
    const expected = text.split('\n').flatMap((l, i) => (l === '  {' ? [i + 1] : []));
    assert.deepEqual(starts, expected);
  });

  test('elements with brackets and escaped quotes inside strings, nested values, scalars', async () => {
    const e = strictEvent('FLOW_COMPLETE', {
      flow_name: 'a "]}," [{ \\ \u00e9 名前',
      extra: [[{}], { a: [1, '"]'] }],
    });
    const r = await run(`[${JSON.stringify(e)} , 12 ,"x",true,null,[] ,\n{"event_type":"FLOW_START"}]\n\n`, {
      json: true,
    });
    const doc = JSON.parse(r.out) as {
      problems: Array<{ line: number; index: number; code: string }>;
      summary: unknown;
    };
    assert.deepEqual(
      doc.problems.filter((p) => p.code !== 'FS_REQUIRED').map((p) => [p.line, p.index, p.code]),
      [
        [1, 1, 'FS_NOT_OBJECT'],
        [1, 2, 'FS_NOT_OBJECT'],
        [1, 3, 'FS_NOT_OBJECT'],
        [1, 4, 'FS_NOT_OBJECT'],
        [1, 5, 'FS_NOT_OBJECT'],
      ],
    );
    assert.deepEqual(doc.summary, { events: 7, valid: 1, invalid: 6, problems: 10 });
  });

  test('an empty array is valid; a broken element is reported and the next one checked', async () => {
    assert.equal((await run(' [ ] ')).code, 0);
    const good = JSON.stringify(strictEvent('FLOW_START'));
    const r = await run(`[\n${good},\n{"a": tru},\n{"a" 1},\n${good}\n]`, { json: true });
    const doc = JSON.parse(r.out) as { problems: Array<{ line: number; code: string }>; summary: unknown };
    assert.deepEqual(
      doc.problems.map((p) => [p.line, p.code]),
      [
        [3, 'FS_JSON_SYNTAX'],
        [4, 'FS_JSON_SYNTAX'],
      ],
    );
    assert.deepEqual(doc.summary, { events: 4, valid: 2, invalid: 2, problems: 2 });
  });

  test('structural problems stop the check with FS_ARRAY_SYNTAX', async () => {
    const good = JSON.stringify(strictEvent('FLOW_START'));
    const cases: Array<[string, number, RegExp]> = [
      [`[${good}] trailing`, 1, /: Unexpected data after the closing "\]"/],
      [`[${good}]\n[${good}]`, 2, /: Unexpected data after the closing "\]"/],
      [`[${good} ${good}]`, 1, /: Expected "," or "\]" after the array element, got "\{"\.$/],
      [`[${good},]`, 1, /: Expected an array element after ",", got "\]"\.$/],
      [`[,${good}]`, 1, /: Expected an array element after ",", got ","\.$/],
      [`[${good},\n${good}`, 2, /: The input ended before the JSON array was closed/],
      [`[\n{"a":"unterminated`, 2, /: The input ended before the JSON array was closed/],
      ['[', 1, /: The input ended before the JSON array was closed/],
      [`[{"a":1]}, ${good}]`, 1, /: Expected "," or "\]" after the array element, got "\}"/],
    ];
    for (const [input, line, message] of cases) {
      const r = await run(input);
      assert.equal(r.code, 1, input);
      const last = lines(r.out).at(-1) ?? '';
      assert.match(last, new RegExp(`^line ${line}: : `), input);
      assert.match(last, message, input);
    }
    const json = JSON.parse((await run(`[${good}] x`, { json: true })).out) as {
      problems: Array<{ index: unknown; code: string }>;
    };
    assert.deepEqual(json.problems, [
      {
        line: 1,
        index: null,
        path: '',
        code: 'FS_ARRAY_SYNTAX',
        message: 'Unexpected data after the closing "]" of the JSON array.',
      },
    ]);
  });

  test('raw newlines inside strings still count for the line numbers', async () => {
    const r = await run('[{"a":"x\ny\\\nz"},\n{"event_type":1}]', { json: true });
    const doc = JSON.parse(r.out) as { problems: Array<{ line: number; index: number; code: string }> };
    assert.deepEqual(
      doc.problems.slice(0, 2).map((p) => [p.line, p.index, p.code]),
      [
        [1, 0, 'FS_JSON_SYNTAX'],
        [4, 1, 'FS_TYPE'],
      ],
    );
  });

  test('an element over the limit is reported and skipped; the array goes on', async () => {
    const good = JSON.stringify(strictEvent('FLOW_START'));
    const r = await run([`[${good},{"pad":"${'y'.repeat(5000)}`, `${'y'.repeat(5000)}"},`, `${good}]`], {
      maxRecordChars: 4000,
      json: true,
    });
    const doc = JSON.parse(r.out) as { problems: Array<{ index: number; code: string }>; summary: unknown };
    assert.deepEqual(
      doc.problems.map((p) => [p.index, p.code]),
      [[1, 'FS_LINE_TOO_LONG']],
    );
    assert.deepEqual(doc.summary, { events: 3, valid: 2, invalid: 1, problems: 1 });
  });
});

describe('runValidate streaming', () => {
  test('property: any chunking of the input (splitting BOM, CRLF, UTF-8 sequences) gives the same report', async () => {
    const ev = (name: string) => JSON.stringify(strictEvent('FLOW_COMPLETE', { flow_name: name }));
    const texts = [
      `\uFEFF${ev('é 名前 🙂')}\r\n\r\n{"broken": \n${ev('x"y')}\n[1]\n`,
      `\uFEFF [\r\n${ev('a],[b')},\n 7 ,\n${ev('🙂')}\n] `,
      `[${ev('x')} ${ev('y')}]`,
      `[\n${ev('back\\slash \\" \\\\" quote\\')},\n{"a":"raw\nnewline\\\n"},\n${ev('\\\\')},\n{"event_type":1}\n]`,
    ];
    for (const text of texts) {
      const bytes = Buffer.from(text);
      const whole = await run(bytes, { json: true });
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
          async (cuts) => {
            const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
            const chunks = points.slice(1).map((end, i) => bytes.subarray(points[i], end));
            assert.equal((await run(chunks, { json: true })).out, whole.out);
          },
        ),
        { numRuns: 150 },
      );
    }
  });

  test('waits for a slow output (back-pressure) and reports everything', async () => {
    const bad = `${JSON.stringify({ event_type: 'FLOW_START' })}\n`;
    const out = new Collector(1, 1);
    const err = new Collector();
    const code = await runValidate({}, Readable.from([Buffer.from(bad.repeat(3000))]), out, err);
    assert.equal(code, 1);
    assert.equal(lines(out.text).length, 3000 * 5);
  });

  test('a read error is an I/O error: exit 2 and one sentence on stderr', async () => {
    const input = new Readable({
      read() {
        this.push(Buffer.from(`${JSON.stringify(strictEvent('FLOW_START'))}\n`));
        this.destroy(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    const out = new Collector();
    const err = new Collector();
    const code = await runValidate({ sourceName: 'events.ndjson' }, input, out, err);
    assert.equal(code, 2);
    assert.equal(err.text, 'flowstream validate: cannot read events.ndjson: disk on fire.\n');
  });
});

describe('the flowstream binary', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const built = existsSync(join(root, 'dist/cli/main.js'));
  // The real binary when built (npm test builds first); otherwise the same main() through tsx.
  const command = built
    ? [join(root, 'bin/flowstream.js')]
    : [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { main } from ${JSON.stringify(join(root, 'src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`,
        '--',
      ];
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-validate-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function cli(args: string[], stdin?: string): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...command, ...args], {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      child.stdin.end(stdin ?? '');
    });
  }

  test('validates a file and stdin; exit 0 and 1', async () => {
    const file = join(dir, 'seed.ndjson');
    await writeFile(file, seedNdjson);
    const ok = await cli(['validate', file]);
    assert.equal(ok.code, 0, ok.err);
    const strict = await cli(['validate', '--strict', '--json', '-'], seedNdjson);
    assert.equal(strict.code, 1);
    const doc = JSON.parse(strict.out) as { mode: string; summary: { problems: number } };
    assert.equal(doc.mode, 'strict');
    assert.equal(doc.summary.problems, 38);
  });

  test('a missing file is exit 2 with one sentence on stderr', async () => {
    const r = await cli(['validate', join(dir, 'nope.ndjson')]);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.equal(r.err, `flowstream: cannot read ${join(dir, 'nope.ndjson')}: no such file\n`);
    const d = await cli(['validate', dir]);
    assert.equal(d.code, 2);
    assert.match(d.err, /cannot read .*: it is a directory\.\n$/);
  });

  test('usage errors are exit 2; --help is exit 0', async () => {
    assert.equal((await cli(['validate'])).code, 2);
    assert.equal((await cli(['validate', '--bogus', 'x'])).code, 2);
    assert.equal((await cli(['validate', '--max-line-chars', '0', '-'])).code, 2);
    const help = await cli(['validate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /--strict/);
  });
});
