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
 * Checks a binding before the server starts: a non-loopback host requires a token of at least
 * `minTokenLength` characters. Throws `E_CONFIG` naming the host and what is needed.
 */
export function checkBinding(host: string, token: string | undefined, minTokenLength: number): void {
  if (token !== undefined && token.length < minTokenLength) {
    throw new PhenofaceError('E_CONFIG', `Access token is ${token.length} characters long. Expected at least ${minTokenLength} (e.g. \`openssl rand -hex 16\`).`);
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
