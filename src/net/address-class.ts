import { isIP } from 'node:net';

/**
 * Which IP addresses a destination may not reach unless `network.allowPrivateNetworks` is true:
 * every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries that is not globally
 * reachable (loopback, private, link-local with the cloud metadata address 169.254.169.254,
 * CGNAT, unique-local, multicast, unspecified, documentation, benchmarking, broadcast ...).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are judged by that IPv4 address, so `::ffff:127.0.0.1` is loopback and
 * `::ffff:8.8.8.8` is not refused.
 */

export interface AddressClass {
  /** What the block is, for messages: `loopback`, `private-use`, `link-local` ... */
  readonly name: string;
  /** Where it is defined. */
  readonly reference: string;
}

interface Block {
  readonly family: 4 | 6;
  readonly prefix: bigint;
  readonly bits: number;
  readonly cls: AddressClass;
  /** For IPv6 blocks that embed an IPv4 address: the bit offset of the 32 IPv4 bits from the left. */
  readonly embeddedIpv4At?: number;
}

const V4_BLOCKS: readonly [string, string, string][] = [
  ['0.0.0.0/8', 'this-network (unspecified)', 'RFC 791'],
  ['10.0.0.0/8', 'private-use', 'RFC 1918'],
  ['100.64.0.0/10', 'shared address space (CGNAT)', 'RFC 6598'],
  ['127.0.0.0/8', 'loopback', 'RFC 1122'],
  ['169.254.0.0/16', 'link-local (includes cloud metadata 169.254.169.254)', 'RFC 3927'],
  ['172.16.0.0/12', 'private-use', 'RFC 1918'],
  ['192.0.0.0/24', 'IETF protocol assignments', 'RFC 6890'],
  ['192.0.2.0/24', 'documentation (TEST-NET-1)', 'RFC 5737'],
  ['192.88.99.0/24', 'deprecated 6to4 relay anycast', 'RFC 7526'],
  ['192.168.0.0/16', 'private-use', 'RFC 1918'],
  ['198.18.0.0/15', 'benchmarking', 'RFC 2544'],
  ['198.51.100.0/24', 'documentation (TEST-NET-2)', 'RFC 5737'],
  ['203.0.113.0/24', 'documentation (TEST-NET-3)', 'RFC 5737'],
  ['224.0.0.0/4', 'multicast', 'RFC 5771'],
  ['240.0.0.0/4', 'reserved', 'RFC 1112'],
  ['255.255.255.255/32', 'limited broadcast', 'RFC 919'],
];

const V6_BLOCKS: readonly [string, string, string, number?][] = [
  ['::/128', 'unspecified', 'RFC 4291'],
  ['::1/128', 'loopback', 'RFC 4291'],
  ['::ffff:0:0/96', 'IPv4-mapped', 'RFC 4291', 96],
  ['::/96', 'IPv4-compatible (deprecated)', 'RFC 4291'],
  ['64:ff9b::/96', 'NAT64', 'RFC 6052', 96],
  ['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation', 'RFC 8215'],
  ['100::/64', 'discard-only', 'RFC 6666'],
  ['2001::/32', 'Teredo tunnelling', 'RFC 4380'],
  ['2001:2::/48', 'benchmarking', 'RFC 5180'],
  ['2001:db8::/32', 'documentation', 'RFC 3849'],
  ['2002::/16', '6to4', 'RFC 3056', 16],
  ['3fff::/20', 'documentation', 'RFC 9637'],
  ['5f00::/16', 'segment routing (SRv6) SIDs', 'RFC 9602'],
  ['fc00::/7', 'unique-local', 'RFC 4193'],
  ['fe80::/10', 'link-local', 'RFC 4291'],
  ['fec0::/10', 'site-local (deprecated)', 'RFC 3879'],
  ['ff00::/8', 'multicast', 'RFC 4291'],
];

function block(family: 4 | 6, cidr: string, name: string, reference: string, embeddedIpv4At?: number): Block {
  const [base, bits] = cidr.split('/') as [string, string];
  const value = family === 4 ? parseIpv4(base) : parseIpv6(base);
  if (value === undefined) throw new Error(`bad block ${cidr}`);
  return {
    family,
    prefix: value,
    bits: Number(bits),
    cls: { name, reference },
    ...(embeddedIpv4At === undefined ? {} : { embeddedIpv4At }),
  };
}

/** Longest prefix first, so that `::1/128` wins over `::/96`. */
const BLOCKS: readonly Block[] = [
  ...V4_BLOCKS.map(([cidr, name, ref]) => block(4, cidr, name, ref)),
  ...V6_BLOCKS.map(([cidr, name, ref, at]) => block(6, cidr, name, ref, at)),
].sort((a, b) => b.bits - a.bits);

function matches(value: bigint, family: 4 | 6, b: Block): boolean {
  if (b.family !== family) return false;
  const width = family === 4 ? 32 : 128;
  const shift = BigInt(width - b.bits);
  return value >> shift === b.prefix >> shift;
}

/**
 * The special-purpose class of an IP address that destinations may not reach by default, or
 * undefined when the address is globally reachable. Throws on a string that is not an IP address.
 */
export function forbiddenAddressClass(address: string): AddressClass | undefined {
  const parsed = parseIp(address);
  if (parsed === undefined) throw new TypeError(`${JSON.stringify(address)} is not an IP address`);
  return classify(parsed.value, parsed.family);
}

function classify(value: bigint, family: 4 | 6): AddressClass | undefined {
  const found = BLOCKS.find((b) => matches(value, family, b));
  if (found === undefined) return undefined;
  if (found.embeddedIpv4At === undefined) return found.cls;
  const v4 = (value >> BigInt(128 - found.embeddedIpv4At - 32)) & 0xffff_ffffn;
  const inner = classify(v4, 4);
  return inner === undefined
    ? undefined
    : { name: `${found.cls.name} ${inner.name}`, reference: `${found.cls.reference}, ${inner.reference}` };
}

/** An IP address as a number, or undefined when `address` is not an IPv4 or IPv6 literal. */
export function parseIp(address: string): { family: 4 | 6; value: bigint } | undefined {
  const bare = stripBrackets(address);
  const family = isIP(bare);
  if (family === 4) {
    const value = parseIpv4(bare);
    return value === undefined ? undefined : { family: 4, value };
  }
  if (family === 6) {
    const value = parseIpv6(bare);
    return value === undefined ? undefined : { family: 6, value };
  }
  return undefined;
}

/** `[::1]` → `::1`; other strings unchanged. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Dotted-quad only (what `net.isIP` accepts); other forms are names for the resolver. */
function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  // A zone id (`fe80::1%eth0`) names an interface, not part of the address.
  const address = text.split('%')[0] ?? '';
  let groups: string[];
  let tail: bigint[] = [];
  let head = address;
  const lastColon = address.lastIndexOf(':');
  const last = address.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    tail = [v4 >> 16n, v4 & 0xffffn];
    head = address.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  if (halves.length === 2) {
    const left = toGroups(halves[0] ?? '');
    const right = toGroups(halves[1] ?? '');
    const missing = 8 - tail.length - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  } else {
    groups = toGroups(head);
  }
  const values = [...groups.map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? BigInt(`0x${g}`) : -1n)), ...tail];
  if (values.length !== 8 || values.some((v) => v < 0n)) return undefined;
  return values.reduce((acc, v) => (acc << 16n) | v, 0n);
}
