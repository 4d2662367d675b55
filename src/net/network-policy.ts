import { lookup as dnsLookup } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import { Agent, buildConnector } from 'undici';
import { type AddressClass, forbiddenAddressClass, parseIp, stripBrackets } from './address-class.js';

/**
 * How destinations reach the network. Every outbound connection goes through this, so that the
 * SSRF rules (SPEC §4 `network.allowPrivateNetworks`) are enforced in one place, on the literal host
 * at create time and on the resolved addresses at connect time.
 *
 * Invariants of a policy made by `createNetworkPolicy({ allowPrivateNetworks: false })`:
 * - No connection through `dispatcher` or `lookup` reaches an address of a forbidden class
 *   (address-class.ts), whatever the name resolved to at the time the stream was saved (DNS
 *   rebinding): the addresses are checked after each resolution, right before connecting.
 * - A name that resolves to several addresses is refused when any of them is forbidden, so a peer
 *   cannot rely on a fallback to a private address.
 * - `localhost` and `*.localhost` are refused without asking DNS (RFC 6761: they are loopback).
 * - Redirects are never followed by the dispatcher (undici's default); HTTP destinations see a 3xx
 *   as the peer's answer.
 * - TLS certificates are verified, unless the policy was made by `withoutTlsVerification()`.
 */
export interface NetworkPolicy {
  readonly allowPrivateNetworks: boolean;
  /** For HTTP destinations (undici `request`/`fetch`): connects only to permitted addresses. */
  readonly dispatcher: Dispatcher;
  /** For `node:net` / `node:tls` / `dgram` destinations: a `lookup` that refuses forbidden addresses. */
  readonly lookup: LookupFunction;
  /** Throws a `ForbiddenDestinationError` when `host` (a literal address or name) is refused. */
  checkHost(host: string): Promise<void>;
  /** False only for a policy from `withoutTlsVerification()`. Absent means true. */
  readonly tlsVerification?: boolean;
  /**
   * The same address rules, with a dispatcher that does not verify TLS certificates: for a stream
   * whose owner turned verification off explicitly. One shared dispatcher per policy.
   */
  withoutTlsVerification?(): NetworkPolicy;
  /** Closes the dispatchers. Idempotent. */
  close?(): Promise<void>;
}

/** Refusal of a destination address by the network policy. Fatal for the stream (http-send.ts). */
export class ForbiddenDestinationError extends Error {
  readonly code = 'FS_DESTINATION_FORBIDDEN';
  /** The host as given (a name or an address). */
  readonly host: string;
  /** The refused address (the host itself when it is a literal). */
  readonly address: string;
  readonly addressClass: AddressClass;

  constructor(host: string, address: string, addressClass: AddressClass) {
    const cls = `a ${addressClass.name} address (${addressClass.reference})`;
    const what = host === address ? `${address} is ${cls}` : `${host} resolves to ${address}, ${cls}`;
    super(`${what}; destinations on such addresses are refused unless network.allowPrivateNetworks is true`);
    this.name = 'ForbiddenDestinationError';
    this.host = host;
    this.address = address;
    this.addressClass = addressClass;
  }
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (as `dns.lookup` with `all: true` does). */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface NetworkPolicyOptions {
  /** Permit loopback, private, link-local ... addresses (SPEC §4). Default false. */
  readonly allowPrivateNetworks?: boolean;
  /**
   * How names are resolved, at create time and connect time. Default: the system resolver
   * (`dns.lookup`, as `net.connect` does). Tests inject one to play DNS rebinding.
   */
  readonly resolve?: Resolver;
  /** How long `checkHost` waits for DNS before it lets the name pass (connect time still checks). Default 2000 ms. */
  readonly checkTimeoutMillis?: number;
  /** TCP + TLS connect timeout of the dispatcher. Default 10000 ms. */
  readonly connectTimeoutMillis?: number;
  /** How long an idle keep-alive socket is kept. Default 30000 ms. */
  readonly keepAliveTimeoutMillis?: number;
}

const systemResolver: Resolver = async (hostname) => {
  const found = await dnsLookupAsync(hostname, { all: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** RFC 6761: `localhost` and names under it are loopback, whatever a resolver says. */
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

function normalizeHost(host: string): string {
  return stripBrackets(host.trim()).toLowerCase().replace(/\.$/, '');
}

/** The refusal for a literal address, or undefined when it is permitted. */
function refusalOfAddress(host: string, address: string): ForbiddenDestinationError | undefined {
  const cls = forbiddenAddressClass(address);
  return cls === undefined ? undefined : new ForbiddenDestinationError(host, address, cls);
}

const LOCALHOST_CLASS: AddressClass = { name: 'loopback', reference: 'RFC 6761' };

/**
 * The network policy of the service. With `allowPrivateNetworks: false` (the default, SPEC §4)
 * every address class of address-class.ts is refused at create time (`checkHost`) and at connect
 * time (`dispatcher`, `lookup`).
 */
export function createNetworkPolicy(options: NetworkPolicyOptions = {}): NetworkPolicy {
  return makePolicy(options, true);
}

/**
 * A policy that permits every address: `createNetworkPolicy({ allowPrivateNetworks: true })`. Used
 * when `network.allowPrivateNetworks` is true, and by tests whose peers listen on loopback.
 */
export function openNetworkPolicy(): NetworkPolicy {
  return createNetworkPolicy({ allowPrivateNetworks: true });
}

function makePolicy(options: NetworkPolicyOptions, verifyTls: boolean): NetworkPolicy {
  const allowPrivate = options.allowPrivateNetworks ?? false;
  const resolve = options.resolve ?? systemResolver;
  const checkTimeoutMillis = options.checkTimeoutMillis ?? 2000;

  /** Every address of `host` that may be connected to; throws the refusal otherwise. */
  const resolveChecked = async (host: string, family: number | undefined): Promise<ResolvedAddress[]> => {
    const name = normalizeHost(host);
    const literal = parseIp(name);
    if (literal !== undefined) {
      const address = name.split('%')[0] ?? name;
      const refusal = allowPrivate ? undefined : refusalOfAddress(host, address);
      if (refusal !== undefined) throw refusal;
      return [{ address: stripBrackets(host.trim()), family: literal.family }];
    }
    if (!allowPrivate && isLocalhostName(name)) {
      throw new ForbiddenDestinationError(host, name, LOCALHOST_CLASS);
    }
    const all = await resolve(name);
    if (!allowPrivate) {
      for (const a of all) {
        const refusal = refusalOfAddress(host, a.address);
        if (refusal !== undefined) throw refusal;
      }
    }
    const wanted = family === 4 || family === 6 ? all.filter((a) => a.family === family) : [...all];
    if (wanted.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
        code: 'ENOTFOUND',
        hostname: host,
      });
    }
    return wanted;
  };

  // With every address permitted and the system resolver, the lookup is Node's own.
  const lookup: LookupFunction =
    allowPrivate && options.resolve === undefined
      ? (dnsLookup as unknown as LookupFunction)
      : checkedLookup(resolveChecked);

  const connect = buildConnector({
    lookup,
    rejectUnauthorized: verifyTls,
    timeout: options.connectTimeoutMillis ?? 10_000,
  });
  const dispatcher = new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMillis ?? 30_000,
    // `net.connect` does not call `lookup` for a literal address: those are checked here.
    connect: (connectOptions, callback) => {
      if (!allowPrivate) {
        const host = connectOptions.hostname;
        if (parseIp(host) !== undefined) {
          const refusal = refusalOfAddress(host, stripBrackets(host).split('%')[0] ?? host);
          if (refusal !== undefined) {
            callback(refusal, null);
            return;
          }
        }
      }
      connect(connectOptions, callback);
    },
  });

  let insecure: NetworkPolicy | undefined;
  let closed: Promise<void> | undefined;
  const policy: NetworkPolicy = {
    allowPrivateNetworks: allowPrivate,
    dispatcher,
    lookup,
    tlsVerification: verifyTls,
    async checkHost(host: string): Promise<void> {
      if (allowPrivate) return;
      const name = normalizeHost(host);
      if (name === '')
        throw new ForbiddenDestinationError(host, host, { name: 'empty', reference: 'RFC 3986' });
      if (parseIp(name) !== undefined || isLocalhostName(name)) {
        await resolveChecked(host, undefined);
        return;
      }
      // A name: refused when it resolves to a forbidden address now. When DNS fails or is slow,
      // the name passes; the connect-time check still refuses whatever it resolves to later.
      let timer: NodeJS.Timeout | undefined;
      // Not unref'd: the caller awaits this, and it is cleared as soon as DNS answers.
      const timeout = new Promise<undefined>((done) => {
        timer = setTimeout(() => done(undefined), checkTimeoutMillis);
      });
      try {
        await Promise.race([resolveChecked(host, undefined), timeout]);
      } catch (err: unknown) {
        if (err instanceof ForbiddenDestinationError) throw err;
      } finally {
        clearTimeout(timer);
      }
    },
    withoutTlsVerification(): NetworkPolicy {
      if (!verifyTls) return policy;
      insecure ??= makePolicy(options, false);
      return insecure;
    },
    close(): Promise<void> {
      closed ??= Promise.all([
        dispatcher.close().catch(() => {}),
        insecure?.close?.() ?? Promise.resolve(),
      ]).then(() => {});
      return closed;
    },
  };
  return policy;
}

/** A `dns.lookup`-compatible function (one address, or all with `{ all: true }`) over `resolveChecked`. */
function checkedLookup(
  resolveChecked: (host: string, family: number | undefined) => Promise<ResolvedAddress[]>,
): LookupFunction {
  return ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (
      err: NodeJS.ErrnoException | null,
      address?: string | ResolvedAddress[],
      family?: number,
    ) => void;
    const opts: { family?: number | string | undefined; all?: boolean } =
      typeof options === 'object' && options !== null
        ? (options as { family?: number | string; all?: boolean })
        : { family: typeof options === 'number' ? options : undefined };
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : Number(opts.family ?? 0);
    resolveChecked(hostname, family).then(
      (addresses) => {
        if (opts.all === true) cb(null, addresses);
        else cb(null, addresses[0]?.address, addresses[0]?.family);
      },
      (err: unknown) => cb(err as NodeJS.ErrnoException),
    );
  }) as unknown as LookupFunction;
}
