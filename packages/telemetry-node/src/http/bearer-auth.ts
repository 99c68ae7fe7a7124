import { createHash, timingSafeEqual } from 'node:crypto';
import { TelemetryConfigurationError } from '@gatewayz/telemetry';

/**
 * Check an `Authorization: Bearer <token>` header against the expected token in constant time.
 * Both sides are hashed first so the comparison takes the same time whatever the lengths. The
 * scheme is case-insensitive; a missing header (`null`) or another scheme is not authorised. A
 * header value is a byte string (each character one byte, as `node:http` and `fetch` hand it over),
 * so it is compared as those bytes against the token's UTF-8 bytes: a token with characters outside
 * ASCII, sent as UTF-8 by curl or Prometheus, matches.
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
  const token = match[1] as string;
  // Only a string built in JavaScript, not one read from HTTP, can hold a character above U+00FF.
  const bytes = Buffer.from(token, /[\u0100-\uffff]/.test(token) ? 'utf8' : 'latin1');
  const given = createHash('sha256').update(bytes).digest();
  const expected = createHash('sha256').update(expectedToken, 'utf8').digest();
  return timingSafeEqual(given, expected);
}

/**
 * @internal Throw a `TelemetryConfigurationError` for `option` unless `token` is undefined (no auth)
 * or a non-empty string a header can carry: a number or an empty string would otherwise be accepted
 * here and then fail (or lock everyone out) on every request, and so would a token with leading or
 * trailing white space (a secret file's final line feed: HTTP strips it from every header) or a
 * control character (no header may hold one).
 */
export function checkBearerToken(option: string, token: unknown): void {
  if (token === undefined) return;
  if (typeof token !== 'string' || token.trim() === '') {
    throw new TelemetryConfigurationError(
      option,
      `expected the bearer token as a non-empty string (or leave it unset for no auth), got ${typeof token === 'string' ? '""' : typeof token}`,
    );
  }
  if (token.trim() !== token) {
    throw new TelemetryConfigurationError(
      option,
      'the bearer token starts or ends with white space (a line feed at the end of a secret file?), which an Authorization header never carries, so no request could match it; remove it',
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(token)) {
    throw new TelemetryConfigurationError(
      option,
      'the bearer token holds a control character, which an Authorization header cannot carry, so no request could match it',
    );
  }
}
