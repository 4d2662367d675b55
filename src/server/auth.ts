import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../security/authenticator.js';
import type { Principal, Scope } from '../security/tokens.js';
import { ApiError } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * A preHandler that lets the request through only with a valid token (401 otherwise) holding
 * `scope` (403 otherwise). The principal is left on `request.principal` for the org checks.
 */
export function requireScope(authenticator: Authenticator, scope: Scope) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
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
}

/** The principal a preHandler attached; routes behind `requireScope` always have one. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new ApiError('FS_UNAUTHENTICATED');
  return request.principal;
}
