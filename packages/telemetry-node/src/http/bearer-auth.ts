import { createHash, timingSafeEqual } from 'node:crypto';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';

/**
 * Check an `Authorization: Bearer <token>` header against the expected token in constant time.
 * Both sides are hashed first so the comparison takes the same time whatever the lengths. The
 * scheme is case-insensitive; a missing header (`null`) or another scheme is not authorised.
 *
 * @example
 * ```ts
 * if (!isAuthorized(request.headers.get('authorization'), process.env.ADMIN_TOKEN!)) {
 *   return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer' } });
 * }
 * ```
 */
export function isAuthorized(authorizationHeader: string | null, expectedToken: string): boolean {
  if (authorizationHeader === null) return false;
  const match = /^Bearer\s+(.+)$/i.exec(authorizationHeader.trim());
  if (match === null) return false;
  const given = createHash('sha256')
    .update(match[1] as string)
    .digest();
  const expected = createHash('sha256').update(expectedToken).digest();
  return timingSafeEqual(given, expected);
}

/**
 * @internal Throw a `TelemetryConfigurationError` for `option` unless `token` is undefined (no auth)
 * or a non-empty string: a number or an empty string would otherwise be accepted here and then fail
 * (or lock everyone out) on every request.
 */
export function checkBearerToken(option: string, token: unknown): void {
  if (token === undefined) return;
  if (typeof token !== 'string' || token.trim() === '') {
    throw new TelemetryConfigurationError(
      option,
      `expected the bearer token as a non-empty string (or leave it unset for no auth), got ${typeof token === 'string' ? '""' : typeof token}`,
    );
  }
}
