import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { pino } from 'pino';
import type {
  Destination,
  DestinationContext,
  SendResult,
  StreamFormat,
} from '../../src/destinations/destination.js';
import {
  classifyFileError,
  type FileSettings,
  fileDestination,
  resolveFilePath,
} from '../../src/destinations/file.js';
import { cloudEventJson } from '../../src/formats/cloudevents.js';
import { openNetworkPolicy } from '../../src/net/network-policy.js';
import { outboundEvent, outboundEvents } from '../helpers/outbound-events.js';

const network = openNetworkPolicy();
const live = new AbortController().signal;
const isRoot = process.getuid?.() === 0;

function context(format: StreamFormat = 'okta'): DestinationContext {
  return {
    streamId: 'f',
    streamName: 'file',
    format,
    network,
    logger: pino({ level: 'silent' }),
    timeoutMillis: 5000,
  };
}

describe('file destination', () => {
  let dir: string;
  const open: Destination[] = [];
  const create = (settings: FileSettings, format: StreamFormat = 'okta') => {
    const destination = fileDestination.create(settings, context(format));
    open.push(destination);
    return destination;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowstream-file-'));
  });
  after(async () => {
    await Promise.all(open.map((d) => d.close()));
    await rm(dir, { recursive: true, force: true });
    await network.dispatcher.close();
  });

  test('appends NDJSON, creating parent directories, owner-only', async () => {
    const path = join(dir, 'a', 'b', 'events.ndjson');
    const destination = create({ path });
    const first = outboundEvents(3);
    const second = outboundEvents(2, 4);
    const result = await destination.send(first, live);
    assert.deepEqual(result, {
      outcome: 'delivered',
      bytes: first.reduce((n, e) => n + Buffer.byteLength(e.json), 0),
    });
    assert.equal((await destination.send(second, live)).outcome, 'delivered');
    const text = await readFile(path, 'utf8');
    assert.equal(text, [...first, ...second].map((e) => `${e.json}\n`).join(''));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('appends to an existing file rather than replacing it', async () => {
    const path = join(dir, 'existing.ndjson');
    await writeFile(path, '{"old":true}\n');
    const event = outboundEvent();
    assert.equal((await create({ path }).send([event], live)).outcome, 'delivered');
    assert.equal(await readFile(path, 'utf8'), `{"old":true}\n${event.json}\n`);
  });

  test('cloudevents: one structured event per line; pretty events on one line', async () => {
    const path = join(dir, 'ce.ndjson');
    const events = [outboundEvent({ seq: 1, indent: 2 }), outboundEvent({ seq: 2 })];
    assert.equal((await create({ path }, 'cloudevents').send(events, live)).outcome, 'delivered');
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0] ?? ''), JSON.parse(cloudEventJson(events[0] ?? outboundEvent())));
    assert.equal(lines[1], cloudEventJson(events[1] ?? outboundEvent()));
  });

  test('concurrent sends are written one after the other, whole', async () => {
    const path = join(dir, 'concurrent.ndjson');
    const destination = create({ path });
    const batches = Array.from({ length: 20 }, (_, i) => outboundEvents(5, i * 5 + 1));
    const results = await Promise.all(batches.map((b) => destination.send(b, live)));
    assert.ok(results.every((r) => r.outcome === 'delivered'));
    assert.equal(
      await readFile(path, 'utf8'),
      batches
        .flat()
        .map((e) => `${e.json}\n`)
        .join(''),
    );
  });

  test('rotation by size keeps maxFiles files, newest first, each under maxBytes', async () => {
    const sub = join(dir, 'rotate');
    const path = join(sub, 'events.ndjson');
    const maxBytes = 3000;
    const destination = create({ path, maxBytes, maxFiles: 2 });
    const all = outboundEvents(30);
    for (let i = 0; i < all.length; i += 2) {
      assert.equal((await destination.send(all.slice(i, i + 2), live)).outcome, 'delivered');
    }
    assert.deepEqual((await readdir(sub)).sort(), ['events.ndjson', 'events.ndjson.1', 'events.ndjson.2']);
    const texts = await Promise.all([`${path}.2`, `${path}.1`, path].map((p) => readFile(p, 'utf8')));
    for (const text of texts) {
      assert.ok(Buffer.byteLength(text) <= maxBytes);
      assert.ok(text.endsWith('\n'));
    }
    // The kept files are the most recent events, in order, with nothing lost between them.
    const kept = texts.join('');
    const expectedTail = all.map((e) => `${e.json}\n`).join('');
    assert.ok(expectedTail.endsWith(kept));
    assert.ok(kept.length > 2 * maxBytes - 1500);
  });

  test('maxFiles 0 deletes the old file; maxBytes 0 never rotates', async () => {
    const sub = join(dir, 'nokeep');
    const path = join(sub, 'e.ndjson');
    const noKeep = create({ path, maxBytes: 1500, maxFiles: 0 });
    for (let seq = 1; seq <= 6; seq++) await noKeep.send([outboundEvent({ seq })], live);
    assert.deepEqual(await readdir(sub), ['e.ndjson']);
    assert.ok((await stat(path)).size <= 1500);

    const sub2 = join(dir, 'norotate');
    const path2 = join(sub2, 'e.ndjson');
    const never = create({ path: path2, maxBytes: 0 });
    for (let seq = 1; seq <= 6; seq++) await never.send([outboundEvent({ seq })], live);
    assert.deepEqual(await readdir(sub2), ['e.ndjson']);
    assert.equal((await readFile(path2, 'utf8')).split('\n').length, 7);
  });

  test('a batch larger than maxBytes goes whole into a fresh file', async () => {
    const sub = join(dir, 'big');
    const path = join(sub, 'e.ndjson');
    const destination = create({ path, maxBytes: 1000, maxFiles: 3 });
    await destination.send([outboundEvent({ seq: 1 })], live);
    const big = outboundEvents(4, 2);
    assert.equal((await destination.send(big, live)).outcome, 'delivered');
    assert.equal(await readFile(path, 'utf8'), big.map((e) => `${e.json}\n`).join(''));
    assert.equal(await readFile(`${path}.1`, 'utf8'), `${outboundEvent({ seq: 1 }).json}\n`);
  });

  test('after an external rename (logrotate) the next batch starts a new file', async () => {
    const path = join(dir, 'external.ndjson');
    const destination = create({ path });
    const [a, b] = [outboundEvent({ seq: 1 }), outboundEvent({ seq: 2 })];
    await destination.send([a], live);
    await rename(path, `${path}.rotated`);
    await destination.send([b], live);
    assert.equal(await readFile(`${path}.rotated`, 'utf8'), `${a.json}\n`);
    assert.equal(await readFile(path, 'utf8'), `${b.json}\n`);
    await rm(path);
    await destination.send([a], live);
    assert.equal(await readFile(path, 'utf8'), `${a.json}\n`);
  });

  const fatal = (result: SendResult, code: string) => {
    assert.equal(result.outcome, 'fatal', JSON.stringify(result));
    assert.ok(result.outcome === 'fatal');
    assert.equal(result.error.code, code);
  };

  test('a directory at the path is fatal (EISDIR)', async () => {
    const path = join(dir, 'is-a-dir');
    await mkdir(path);
    fatal(await create({ path }).send([outboundEvent()], live), 'EISDIR');
  });

  test('a file where a parent directory should be is fatal', async () => {
    const parent = join(dir, 'plain-file');
    await writeFile(parent, 'x');
    fatal(await create({ path: join(parent, 'events.ndjson') }).send([outboundEvent()], live), 'EEXIST');
    fatal(
      await create({ path: join(parent, 'sub', 'events.ndjson') }).send([outboundEvent()], live),
      'ENOTDIR',
    );
  });

  test('a symlink at the path is refused (ELOOP), its target untouched', async () => {
    const target = join(dir, 'target.txt');
    await writeFile(target, 'precious\n');
    const path = join(dir, 'link.ndjson');
    await symlink(target, path);
    fatal(await create({ path }).send([outboundEvent()], live), 'ELOOP');
    assert.equal(await readFile(target, 'utf8'), 'precious\n');
  });

  test('a device is refused (FILE_NOT_REGULAR)', async () => {
    fatal(await create({ path: '/dev/null' }).send([outboundEvent()], live), 'FILE_NOT_REGULAR');
  });

  test('a FIFO without a reader is refused without blocking', async (t) => {
    const path = join(dir, 'fifo');
    if (spawnSync('mkfifo', [path]).status !== 0) {
      t.skip('mkfifo is not available');
      return;
    }
    fatal(await create({ path }).send([outboundEvent()], live), 'ENXIO');
  });

  test('a directory without write permission is fatal (EACCES)', {
    skip: isRoot && 'root ignores permissions',
  }, async () => {
    const sub = join(dir, 'readonly');
    await mkdir(sub);
    await chmod(sub, 0o500);
    try {
      fatal(await create({ path: join(sub, 'e.ndjson') }).send([outboundEvent()], live), 'EACCES');
    } finally {
      await chmod(sub, 0o700);
    }
  });

  test('an aborted signal writes nothing', async () => {
    const path = join(dir, 'aborted.ndjson');
    const result = await create({ path }).send([outboundEvent()], AbortSignal.abort());
    assert.equal(result.outcome, 'retryable');
    await assert.rejects(stat(path), { code: 'ENOENT' });
  });

  test('close is idempotent and later sends are retryable', async () => {
    const destination = create({ path: join(dir, 'closed.ndjson') });
    await destination.send([outboundEvent()], live);
    await destination.close();
    await destination.close();
    assert.equal((await destination.send([outboundEvent()], live)).outcome, 'retryable');
  });
});

describe('file destination on a small or read-only file system (tmpfs, root only)', () => {
  let mountPoint: string;
  let mounted = false;
  before(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'flowstream-tmpfs-'));
    if (!isRoot) return;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], {
        stdio: 'ignore',
      });
      mounted = true;
    } catch {
      mounted = false;
    }
  });
  after(async () => {
    if (mounted) execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
    await rm(mountPoint, { recursive: true, force: true });
  });

  test('ENOSPC is retryable, leaves only whole lines, and succeeds once space is freed', async (t) => {
    if (!mounted) {
      t.skip('needs root and permission to mount tmpfs');
      return;
    }
    const path = join(mountPoint, 'events.ndjson');
    const filler = join(mountPoint, 'filler');
    await writeFile(filler, Buffer.alloc(40 * 1024));
    const destination = fileDestination.create({ path, maxBytes: 0 }, context());
    try {
      let result: SendResult = { outcome: 'delivered', bytes: 0 };
      let seq = 1;
      const delivered: string[] = [];
      while (result.outcome === 'delivered' && seq < 1000) {
        const batch = outboundEvents(3, seq);
        seq += 3;
        result = await destination.send(batch, live);
        if (result.outcome === 'delivered') delivered.push(...batch.map((e) => `${e.json}\n`));
      }
      assert.equal(result.outcome, 'retryable');
      assert.ok(result.outcome === 'retryable');
      assert.equal(result.error.code, 'ENOSPC');
      // The failed batch was cut back: the file is exactly the delivered lines.
      assert.equal(await readFile(path, 'utf8'), delivered.join(''));
      await rm(filler);
      const retry = outboundEvents(3, seq);
      assert.equal((await destination.send(retry, live)).outcome, 'delivered');
      assert.equal(await readFile(path, 'utf8'), [...delivered, ...retry.map((e) => `${e.json}\n`)].join(''));
    } finally {
      await destination.close();
    }
  });

  test('a read-only file system is fatal (EROFS)', async (t) => {
    if (!mounted) {
      t.skip('needs root and permission to mount tmpfs');
      return;
    }
    execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'ignore' });
    const destination = fileDestination.create({ path: join(mountPoint, 'ro.ndjson') }, context());
    try {
      const result = await destination.send([outboundEvent()], live);
      assert.equal(result.outcome, 'fatal');
      assert.ok(result.outcome === 'fatal');
      assert.equal(result.error.code, 'EROFS');
    } finally {
      await destination.close();
      execFileSync('mount', ['-o', 'remount,rw', mountPoint], { stdio: 'ignore' });
    }
  });
});

describe('file settings and classification', () => {
  const validate = new Ajv({ strict: true }).compile(fileDestination.settingsSchema);

  test('valid and refused settings', () => {
    assert.ok(validate({ path: '/var/log/flowstream/events.ndjson' }));
    assert.ok(validate({ path: './events.ndjson', maxBytes: 0, maxFiles: 0 }));
    assert.ok(validate({ path: 'logs/..events.ndjson' }));
    for (const bad of [
      {},
      { path: '' },
      { path: '../outside.ndjson' },
      { path: 'logs/../../etc/x' },
      { path: '/var/log/..' },
      { path: 'a\u0000b' },
      { path: '/x', rotate: true },
      { path: '/x', maxBytes: -1 },
      { path: '/x', maxFiles: 1.5 },
    ]) {
      assert.equal(validate(bad), false, JSON.stringify(bad));
    }
  });

  test('relative paths resolve against the working directory', () => {
    assert.equal(resolveFilePath('events.ndjson', '/srv/flowstream'), '/srv/flowstream/events.ndjson');
    assert.equal(resolveFilePath('./logs//e.ndjson', '/srv'), '/srv/logs/e.ndjson');
    assert.equal(resolveFilePath('/var/log/e.ndjson', '/srv'), '/var/log/e.ndjson');
  });

  test('no secrets, no network targets', () => {
    assert.deepEqual(fileDestination.secretSettings, []);
    assert.deepEqual(fileDestination.targets({ path: '/x' }), []);
  });

  const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
  const cases: Array<[string, string]> = [
    ['ENOSPC', 'retryable'],
    ['EDQUOT', 'retryable'],
    ['EIO', 'retryable'],
    ['EMFILE', 'retryable'],
    ['EAGAIN', 'retryable'],
    ['EACCES', 'fatal'],
    ['EPERM', 'fatal'],
    ['EROFS', 'fatal'],
    ['EISDIR', 'fatal'],
    ['ENOTDIR', 'fatal'],
    ['EEXIST', 'fatal'],
    ['ELOOP', 'fatal'],
    ['EFBIG', 'fatal'],
    ['FILE_NOT_REGULAR', 'fatal'],
  ];
  for (const [code, outcome] of cases) {
    test(`classifyFileError: ${code} is ${outcome}`, () => {
      const result = classifyFileError(errno(code), '/x/e.ndjson');
      assert.equal(result.outcome, outcome);
      assert.ok(result.outcome === 'fatal' || result.outcome === 'retryable');
      assert.equal(result.error.code, code);
      assert.match(result.error.message, /\/x\/e\.ndjson/);
    });
  }

  test('classifyFileError: an error without a code is retryable FILE_ERROR', () => {
    const result = classifyFileError(new Error('odd'), '/x');
    assert.equal(result.outcome, 'retryable');
    assert.ok(result.outcome === 'retryable');
    assert.equal(result.error.code, 'FILE_ERROR');
  });
});
