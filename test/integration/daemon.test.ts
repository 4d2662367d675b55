import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freeTcpPorts, requireBinary } from './daemon.js';

describe('integration helpers', () => {
  test('a missing daemon is an error that names the Debian package and the skip switch', () => {
    assert.throws(
      () => requireBinary('flowstream-no-such-daemon', 'flowstream-no-such-package'),
      (err: unknown) =>
        err instanceof Error &&
        err.message.includes('flowstream-no-such-daemon is not installed') &&
        err.message.includes('flowstream-no-such-package') &&
        err.message.includes('FLOWSTREAM_SKIP_INTEGRATION=1'),
    );
  });

  test('free ports are distinct', async () => {
    const ports = await freeTcpPorts(5);
    assert.equal(new Set(ports).size, 5);
  });
});
