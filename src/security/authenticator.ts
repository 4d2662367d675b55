import type { StaticToken } from '../config/config-schema.js';
import type { TokenStore } from './token-store.js';
import { type Principal, type Scope, tokenFromAuthorization, tokensEqual } from './tokens.js';

/**
 * Resolves an `Authorization` header to a principal: static tokens from the config first (compared
 * in constant time), then tokens created with `flowstream tokens create`.
 */
export class Authenticator {
  readonly #statics: readonly { token: string; principal: Principal }[];
  readonly #store: TokenStore | undefined;

  constructor(staticTokens: readonly StaticToken[], store?: TokenStore) {
    this.#statics = staticTokens.map((t) => ({
      token: t.token,
      principal: { tokenId: `static:${t.name}`, name: t.name, org: t.org, scopes: new Set<Scope>(t.scopes) },
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
