/**
 * Who may talk to the server. Loopback binding needs no token; any other address does, because
 * photos of patients must not be screenable by anyone on the hospital network. Loopback mode also
 * refuses foreign Host headers, which stops DNS-rebinding pages from reaching 127.0.0.1.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { PhenofaceError } from '../errors.ts';

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * What in a token no request can send back, or undefined. An `Authorization` header carries
 * visible ASCII unchanged; {@link bearerMatches} reads the token up to the first space, HTTP reads
 * header bytes as Latin-1 (a UTF-8 character arrives as two others) and browsers refuse to send
 * what is not Latin-1. A token with anything else (e.g. the carriage return of a token file saved
 * on Windows) would start a server that answers every request 401.
 */
function unsendableInToken(token: string): string | undefined {
  const c = /[^\x21-\x7e]/.exec(token)?.[0];
  if (c === undefined) return undefined;
  const kind = /\s/.test(c) ? 'a space or line break' : /\p{Cc}/u.test(c) ? 'a control character' : 'a character outside ASCII';
  return `holds ${kind} (character ${token.indexOf(c) + 1})`;
}

/**
 * Checks a binding before the server starts: a non-loopback host requires a token of at least
 * `minTokenLength` characters, and a token must be one a request can send. Throws `E_CONFIG`
 * naming the host and what is needed (never the token).
 */
export function checkBinding(host: string, token: string | undefined, minTokenLength: number): void {
  if (token !== undefined && token.length < minTokenLength) {
    throw new PhenofaceError('E_CONFIG', `Access token is ${token.length} characters long. Expected at least ${minTokenLength} (e.g. \`openssl rand -hex 16\`).`);
  }
  const unsendable = token === undefined ? undefined : unsendableInToken(token);
  if (unsendable) {
    throw new PhenofaceError('E_CONFIG', `Access token ${unsendable}, which no "Authorization: Bearer" header can carry: every request would be refused. Expected visible ASCII characters only (e.g. \`openssl rand -hex 16\`).`);
  }
  if (!isLoopbackHost(host) && token === undefined) {
    throw new PhenofaceError('E_CONFIG', `Refusing to listen on "${host}" without an access token: other machines could screen photos. Give --token T (or set PHENOFACE_TOKEN), or listen on 127.0.0.1.`);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time check of an `Authorization` header against `Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

/** The host name of a `Host` header (`name:port`, `[v6]:port`), lower-cased, without the port. */
export function hostName(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** True when a browser's `Origin` names the same host and port as the request's `Host`. */
export function sameOrigin(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true; // not a cross-site browser request (curl, same-origin GET)
  try {
    return new URL(origin).host.toLowerCase() === (hostHeader ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/** Where the API lives; everything below it needs the token (when one is set). */
export const API_PREFIX = '/api';

/** Rounds of percent-decoding {@link normalisedPath} applies: enough for any encoding a proxy chain adds. */
const DECODE_ROUNDS = 8;

/**
 * The path a request target names once every layer that might read it leniently has had its say:
 * the scheme and authority of an absolute-form target dropped, the query and fragment cut off,
 * percent-escapes decoded again and again (`%2561` -> `%61` -> `a`), backslashes read as slashes,
 * `;parameters`, empty and `.` segments dropped, `..` applied, and lower case. Used to decide
 * whether a request *looks like* the API, so that a 404 for such a path needs the token too and
 * cannot be used to map the API without it. Access to the API's routes themselves never depends
 * on it: they are guarded by the scope they are registered in.
 */
export function normalisedPath(target: string): string {
  let p = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  for (let round = 0; ; round++) {
    p = p.split(/[?#]/, 1)[0];
    const decoded = p.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (decoded === p || round === DECODE_ROUNDS) break;
    p = decoded;
  }
  const segments: string[] = [];
  for (const raw of p.replace(/\\/g, '/').toLowerCase().split('/')) {
    // Whitespace and control characters cannot be part of a route name; a lenient parser drops them.
    const segment = raw.split(';', 1)[0].replace(/[\s\p{Cc}]+/gu, '');
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/** True when a path (a route pattern or a {@link normalisedPath}) is `/api` or below it. */
export function isApiPath(p: string): boolean {
  return p === API_PREFIX || p.startsWith(`${API_PREFIX}/`);
}
