import type { RateLimit } from './rate-limit.js';
import type { TokenStore } from './token-store.js';
import { type Principal, type Scope, tokenFromAuthorization, tokensEqual } from './tokens.js';

/** A token declared in the configuration file (SPEC §4 `auth.tokens`), or an in-memory one. */
export interface StaticTokenInput {
  readonly name: string;
  readonly token: string;
  readonly org: string;
  readonly scopes: readonly Scope[];
  readonly ingestRateLimit?: RateLimit;
}

/**
 * Resolves an `Authorization` header to a principal: static tokens from the config first (compared
 * in constant time), then tokens created with `flowstream tokens create` (looked up by digest).
 */
export class Authenticator {
  readonly #statics: readonly { token: string; principal: Principal }[];
  readonly #store: TokenStore | undefined;

  constructor(staticTokens: readonly StaticTokenInput[], store?: TokenStore) {
    this.#statics = staticTokens.map((t) => ({
      token: t.token,
      principal: {
        tokenId: `static:${t.name}`,
        name: t.name,
        org: t.org,
        scopes: new Set<Scope>(t.scopes),
        ...(t.ingestRateLimit === undefined ? {} : { ingestRateLimit: t.ingestRateLimit }),
      },
    }));
    this.#store = store;
  }

  authenticate(authorization: string | undefined): Principal | undefined {
    const token = tokenFromAuthorization(authorization);
    if (token === undefined) return undefined;
    let found: Principal | undefined;
    // Every static token is compared, so the time taken does not tell which one matched.
    for (const entry of this.#statics) {
      if (tokensEqual(entry.token, token) && found === undefined) found = entry.principal;
    }
    return found ?? this.#store?.verify(token);
  }
}
