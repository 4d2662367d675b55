import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { forbiddenAddressClass, parseIp } from '../../src/net/address-class.js';
import { FORBIDDEN_ADDRESSES, PUBLIC_ADDRESSES } from './helpers/addresses.js';

describe('forbiddenAddressClass', () => {
  for (const [address, word] of FORBIDDEN_ADDRESSES) {
    test(`${address} is refused (${word})`, () => {
      const cls = forbiddenAddressClass(address);
      assert.ok(cls, `${address} should be refused`);
      assert.match(`${cls.name} ${cls.reference}`, new RegExp(word.replace(/[-]/g, '.'), 'i'));
    });
  }

  test('globally reachable addresses pass', () => {
    for (const address of PUBLIC_ADDRESSES) {
      assert.equal(forbiddenAddressClass(address), undefined, address);
    }
  });

  test('a string that is not an IP address throws', () => {
    for (const text of ['localhost', '127.1', '2130706433', '0x7f.0.0.1', '1.2.3.4.5', ':::', '']) {
      assert.throws(() => forbiddenAddressClass(text), TypeError, text);
    }
  });

  test('every IPv4 address maps to the same class as its IPv4-mapped IPv6 form', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const plain = forbiddenAddressClass(v4);
        const mapped = forbiddenAddressClass(`::ffff:${v4}`);
        assert.equal(mapped === undefined, plain === undefined, v4);
      }),
      { numRuns: 2000 },
    );
  });

  test('parseIp agrees with the dotted quad and the hex groups', () => {
    assert.deepEqual(parseIp('1.2.3.4'), { family: 4, value: 0x01020304n });
    assert.deepEqual(parseIp('::ffff:1.2.3.4'), { family: 6, value: 0xffff01020304n });
    assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), { family: 6, value: 0x00010002000300040005000600070008n });
    assert.deepEqual(parseIp('1::8'), { family: 6, value: 0x00010000000000000000000000000008n });
    assert.equal(parseIp('example.com'), undefined);
  });

  test('any generated IPv6 address parses and classifies without throwing', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        assert.ok(parseIp(v6));
        forbiddenAddressClass(v6);
      }),
      { numRuns: 2000 },
    );
  });
});
