import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Authenticator } from '../security/authenticator.js';
import type { Principal, Scope } from '../security/tokens.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Set by `requireScope` on its hook: the scope the route needs (read by the OpenAPI generator). */
export const REQUIRED_SCOPE = Symbol('flowstream.requiredScope');

export type ScopeHook = ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) & {
  readonly [REQUIRED_SCOPE]: Scope;
};

/**
 * An `onRequest` hook that lets the request through only with a valid token (401 otherwise)
 * holding `scope` (403 otherwise). It runs before the body is read and before validation, so a
 * caller without a token can make the service neither parse a body nor tell it what is invalid.
 * The principal is left on `request.principal` for the org checks.
 */
export function requireScope(authenticator: Authenticator, scope: Scope): ScopeHook {
  const hook = async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const principal = authenticator.authenticate(request.headers.authorization);
    if (principal === undefined) {
      throw new ApiError('FS_UNAUTHENTICATED', {
        causes: ['Send Authorization: Bearer <token> (or SSWS <token>) with a valid, unrevoked token.'],
        headers: { 'www-authenticate': 'Bearer realm="flowstream"' },
      });
    }
    if (!principal.scopes.has(scope)) {
      throw new ApiError('FS_FORBIDDEN_SCOPE', { causes: [`This request needs the scope ${scope}.`] });
    }
    request.principal = principal;
  };
  return Object.assign(hook, { [REQUIRED_SCOPE]: scope });
}

/** The scope a route's authentication hook requires, if any. */
export function scopeOf(route: Pick<RouteOptions, 'onRequest'>): Scope | undefined {
  const hooks =
    route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
  for (const hook of hooks) {
    const scope = (hook as unknown as Record<symbol, unknown>)[REQUIRED_SCOPE];
    if (typeof scope === 'string') return scope as Scope;
  }
  return undefined;
}

/** The principal a preHandler attached; routes behind `requireScope` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new ApiError('FS_UNAUTHENTICATED');
  return request.principal;
}
