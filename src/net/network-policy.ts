import type { LookupFunction } from 'node:net';
import { lookup as dnsLookup } from 'node:dns';
import { Agent } from 'undici';
import type { Dispatcher } from 'undici';

/**
 * How destinations reach the network. Every outbound connection goes through this, so that the
 * SSRF rules (SPEC §4 `network.allowPrivateNetworks`) are enforced in one place, on the literal host
 * at create time and on the resolved addresses at connect time.
 */
export interface NetworkPolicy {
  readonly allowPrivateNetworks: boolean;
  /** For HTTP destinations (undici `request`/`fetch`): connects only to permitted addresses. */
  readonly dispatcher: Dispatcher;
  /** For `node:net` / `node:tls` / `dgram` destinations: a `lookup` that refuses forbidden addresses. */
  readonly lookup: LookupFunction;
  /** Throws a `ForbiddenDestinationError` when `host` (a literal address or name) is refused. */
  checkHost(host: string): Promise<void>;
}

/**
 * A policy that permits every address: used when `network.allowPrivateNetworks` is true (and by
 * tests, whose peers listen on loopback).
 */
export function openNetworkPolicy(): NetworkPolicy {
  return {
    allowPrivateNetworks: true,
    dispatcher: new Agent({ keepAliveTimeout: 30_000 }),
    lookup: dnsLookup as unknown as LookupFunction,
    checkHost: async () => {},
  };
}
