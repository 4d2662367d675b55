import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../security/audit-log.js';
import type { Authenticator } from '../../security/authenticator.js';
import type { IngestRateLimiter } from '../../security/rate-limit.js';
import type { TokenRecord, TokenStore } from '../../security/token-store.js';
import { coversOrg, type Scope } from '../../security/tokens.js';
import { principalOf, requireScope } from '../auth.js';
import { ApiError } from '../errors.js';
import {
  errorResponses,
  NoQuerySchema,
  TokenCreateBodySchema,
  TokenCreatedSchema,
  TokenIdParamsSchema,
} from '../schemas.js';

export interface TokensRouteOptions {
  readonly tokens: TokenStore;
  readonly authenticator: Authenticator;
  /** Where token creation and revocation are recorded. Default: not recorded. */
  readonly audit?: AuditLog;
  /** Forgets a revoked token's bucket. */
  readonly rateLimiter?: IngestRateLimiter;
}

interface TokenInput {
  name?: string;
  org?: string;
  scopes: Scope[];
  expiresAt?: string;
}

const TAGS = ['tokens'];

/**
 * `/api/v1/tokens`: tokens are managed with `streams:write` (list with `streams:read`). A token
 * can only create tokens for orgs it covers and with scopes it has itself, so no token can mint a
 * more powerful one. The token value is in the creation answer only; the store keeps its hash.
 */
export async function tokensRoutes(app: FastifyInstance, options: TokensRouteOptions): Promise<void> {
  const { tokens, audit } = options;
  const readHook = requireScope(options.authenticator, 'streams:read');
  const writeHook = requireScope(options.authenticator, 'streams:write');

  const record = (
    request: FastifyRequest,
    token: TokenRecord,
    action: 'token.create' | 'token.revoke',
    details: Record<string, string | null | readonly string[]>,
  ): void => {
    if (audit === undefined) return;
    const principal = principalOf(request);
    audit.record({
      actor: { tokenId: principal.tokenId, name: principal.name, org: principal.org },
      action,
      org: token.org,
      target: { type: 'token', id: token.id },
      details,
    });
  };

  app.post<{ Body: TokenInput }>(
    '/api/v1/tokens',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Create a token',
        description:
          'For an org the calling token covers, with scopes it has itself. The answer holds the token: it is ' +
          'not shown again.',
        tags: TAGS,
        body: TokenCreateBodySchema,
        querystring: NoQuerySchema,
        response: { 201: TokenCreatedSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, response) => {
      const principal = principalOf(request);
      const input = request.body;
      const name = input.name ?? 'api';
      const org = input.org ?? principal.org;
      let expiresAt: string | undefined;
      if (input.expiresAt !== undefined) {
        const millis = Date.parse(input.expiresAt);
        if (Number.isNaN(millis) || millis <= Date.now()) {
          throw new ApiError('FS_VALIDATION', {
            causes: ['body.expiresAt must be a future ISO 8601 timestamp'],
          });
        }
        expiresAt = new Date(millis).toISOString();
      }
      if (!coversOrg(principal, org)) {
        throw new ApiError('FS_FORBIDDEN_ORG', {
          causes: ['A token can only create tokens for its own org.'],
        });
      }
      const wanted = [...new Set(input.scopes)];
      const missing = wanted.filter((s) => !principal.scopes.has(s));
      if (missing.length > 0) {
        throw new ApiError('FS_FORBIDDEN_SCOPE', {
          causes: [`A token cannot grant scopes it does not have: ${missing.join(', ')}.`],
        });
      }
      const created = tokens.create({
        name,
        org,
        scopes: wanted,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      record(request, created.record, 'token.create', {
        name,
        scopes: wanted,
        expiresAt: created.record.expiresAt,
      });
      request.log.info(
        { token: created.record.id, org, scopes: wanted, by: principal.tokenId },
        'token created',
      );
      return response.code(201).send({ ...created.record, token: created.token });
    },
  );

  app.get(
    '/api/v1/tokens',
    {
      onRequest: readHook,
      schema: {
        summary: 'List tokens',
        description:
          "Tokens created through the API of the token's org (never their values; config tokens are not listed).",
        tags: TAGS,
        querystring: NoQuerySchema,
        response: { 200: Type.Array(Type.Ref('Token')), ...errorResponses(401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return tokens.list().filter((t) => coversOrg(principal, t.org));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      onRequest: writeHook,
      schema: {
        summary: 'Revoke a token',
        description: 'From the next request on, the token gets 401. Revoking twice is harmless.',
        tags: TAGS,
        params: TokenIdParamsSchema,
        querystring: NoQuerySchema,
        response: { 204: Type.Null({ description: 'Revoked.' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, response) => {
      const principal = principalOf(request);
      const found = tokens.get(request.params.id);
      if (found === undefined) {
        throw new ApiError('FS_NOT_FOUND', {
          causes: [`No token has the id ${JSON.stringify(request.params.id)}.`],
        });
      }
      if (!coversOrg(principal, found.org)) {
        throw new ApiError('FS_FORBIDDEN_ORG', { causes: ['This token belongs to another org.'] });
      }
      tokens.revoke(found.id);
      options.rateLimiter?.forget(found.id);
      record(request, found, 'token.revoke', { name: found.name, alreadyRevokedAt: found.revokedAt });
      request.log.info({ token: found.id, by: principal.tokenId }, 'token revoked');
      return response.code(204).send();
    },
  );
}
