// Authentication and authorisation for HTTP routes: every route declares the permission it needs in
// its `config.permission`; a route that declares none needs `admin`, so forgetting is never an opening.
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { PlinthError } from '../core/index.js';
import type { Db } from '../store/index.js';
import type { Actor } from './audit.js';
import { roleAllows, type Permission } from './roles.js';
import { PrincipalCache } from './principal-cache.js';
import { authenticate, type Principal } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the caller's token must allow. @default 'admin' */
    permission?: Permission;
  }
  interface FastifyRequest {
    /** Set for every authenticated request; null on public routes. */
    principal: Principal | null;
  }
}

/** Reads the bearer token (or, for MLflow clients, the password of basic auth). */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  // The usual form, without splitting the header.
  if (header.startsWith('Bearer ') && header.indexOf(' ', 7) < 0) return header.length > 7 ? header.slice(7) : undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** The onRequest hook of a route that needs `permission` (not 'public'). */
function guard(db: Db, cache: PrincipalCache, permission: Permission): onRequestHookHandler {
  const admit = (request: FastifyRequest, principal: Principal): PlinthError | undefined => {
    if (!roleAllows(principal.role, permission)) {
      return new PlinthError('PERMISSION_DENIED', `role ${principal.role} may not do this (needs ${permission} permission)`);
    }
    request.principal = principal;
    return undefined;
  };
  // A callback hook: a token in the cache is checked without a promise.
  return (request, _reply, done) => {
    const token = bearerToken(request);
    if (!token) return done(new PlinthError('UNAUTHENTICATED', 'this route needs a bearer token: send Authorization: Bearer <token>'));
    const cached = cache.get(token);
    if (cached) return done(admit(request, cached));
    authenticate(db, token, cache).then((principal) => done(admit(request, principal)), (error: Error) => done(error));
  };
}

/**
 * Installs authentication on `app`: every route registered afterwards gets an onRequest hook that
 * checks the caller's token against the permission in its `config.permission` (default 'admin';
 * 'public' routes get none). Call it once, at the root, before registering any route. Unmatched
 * routes fall through to the 404 handler without a token check. Returns the principal cache,
 * which token revocations must clear.
 */
export function installAuthentication(app: FastifyInstance, db: Db, cache = new PrincipalCache()): PrincipalCache {
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    const permission: Permission = route.config?.permission ?? 'admin';
    if (permission === 'public') return;
    // The permission is bound here, once per route, rather than read from the route's options on every request.
    const hook = guard(db, cache, permission);
    // First, so that no other route hook sees an unauthenticated request.
    route.onRequest = route.onRequest === undefined ? [hook] : [hook, ...(Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest])];
  });
  return cache;
}

/** The actor for audit entries written while handling `request`. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  return { name: principal?.name ?? 'anonymous', tokenId: principal?.tokenId ?? null, requestId: request.id };
}
