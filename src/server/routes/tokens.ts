import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../../security/authenticator.js';
import type { TokenStore } from '../../security/token-store.js';
import { coversOrg, SCOPES, type Scope } from '../../security/tokens.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';

export interface TokensRouteOptions {
  readonly tokens: TokenStore;
  readonly authenticator: Authenticator;
}

interface TokenInput {
  name?: unknown;
  org?: unknown;
  scopes?: unknown;
  expiresAt?: unknown;
}

/**
 * `/api/v1/tokens`: tokens are managed with `streams:write` (list with `streams:read`). A token
 * can only create tokens for orgs it covers and with scopes it has itself, so no token can mint a
 * more powerful one. The token value is in the creation answer only; the store keeps its hash.
 */
export async function tokensRoutes(app: FastifyInstance, options: TokensRouteOptions): Promise<void> {
  const { tokens } = options;
  const read = { preHandler: requireScope(options.authenticator, 'streams:read') };
  const write = { preHandler: requireScope(options.authenticator, 'streams:write') };

  app.post('/api/v1/tokens', write, async (request, response) => {
    const principal = principalOf(request);
    const input = (request.body ?? {}) as TokenInput;
    const causes: string[] = [];
    const name = input.name ?? 'api';
    if (typeof name !== 'string' || name.length < 1 || name.length > 100) causes.push('name must be a string of 1 to 100 characters');
    const org = input.org ?? principal.org;
    if (typeof org !== 'string' || org.length < 1 || org.length > 200) causes.push('org must be a string of 1 to 200 characters');
    const scopes = input.scopes;
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (SCOPES as readonly unknown[]).includes(s))) {
      causes.push(`scopes must be a non-empty array of ${SCOPES.join(', ')}`);
    }
    let expiresAt: string | undefined;
    if (input.expiresAt !== undefined) {
      const millis = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : Number.NaN;
      if (Number.isNaN(millis) || millis <= Date.now()) causes.push('expiresAt must be a future ISO 8601 timestamp');
      else expiresAt = new Date(millis).toISOString();
    }
    if (causes.length > 0) throw new ApiError('FS_VALIDATION', { causes });
    if (!coversOrg(principal, org as string)) {
      throw new ApiError('FS_FORBIDDEN_ORG', { causes: ['A token can only create tokens for its own org.'] });
    }
    const wanted = [...new Set(scopes as Scope[])];
    const missing = wanted.filter((s) => !principal.scopes.has(s));
    if (missing.length > 0) {
      throw new ApiError('FS_FORBIDDEN_SCOPE', { causes: [`A token cannot grant scopes it does not have: ${missing.join(', ')}.`] });
    }
    const created = tokens.create({
      name: name as string,
      org: org as string,
      scopes: wanted,
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
    request.log.info({ token: created.record.id, org, scopes: wanted, by: principal.tokenId }, 'token created');
    return response.code(201).send({ ...created.record, token: created.token });
  });

  app.get('/api/v1/tokens', read, async (request) => {
    const principal = principalOf(request);
    return tokens.list().filter((t) => coversOrg(principal, t.org));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', write, async (request, response) => {
    const principal = principalOf(request);
    const record = tokens.get(request.params.id);
    if (record === undefined || !coversOrg(principal, record.org)) {
      throw new ApiError('FS_NOT_FOUND', { causes: [`No token has the id ${JSON.stringify(request.params.id)}.`] });
    }
    tokens.revoke(record.id);
    request.log.info({ token: record.id, by: principal.tokenId }, 'token revoked');
    return response.code(204).send();
  });
}
