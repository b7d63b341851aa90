/**
 * HTTP/1.1 over a bare TCP socket, for tests that must send what `fetch` and Fastify's inject would
 * tidy up first (percent-encoded or dotted paths, absolute-form targets) or that must control the
 * pace of a body byte by byte (slow uploads).
 */
import net from 'node:net';

/** A response as read off the socket. `status` is 0 when the server closed without answering. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses what a server sent on a connection (one response; the connection was closed after it). */
export function parseResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/') || end === -1) return { status: 0, headers: {}, body: text };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}

/** The request head: request line and headers (`Host: 127.0.0.1` and `Connection: close` unless given). */
export function requestHead(method: string, target: string, headers: Record<string, string | number> = {}): string {
  const merged = new Map<string, [string, string | number]>();
  for (const [k, v] of Object.entries({ Host: '127.0.0.1', Connection: 'close', ...headers })) merged.set(k.toLowerCase(), [k, v]);
  const lines = [`${method} ${target} HTTP/1.1`, ...[...merged.values()].map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Sends one request exactly as given and reads the response until the server closes. */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string | number> = {}, body?: Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`No answer to ${method} ${target} within ${timeoutMs} ms`)); }, timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    // A server that refuses a request may close before reading its body (a reset): what it sent counts.
    socket.on('error', () => {});
    socket.on('close', () => { clearTimeout(timer); resolve(parseResponse(Buffer.concat(chunks).toString('latin1'))); });
    socket.write(requestHead(method, target, { ...(body ? { 'Content-Length': body.length } : {}), ...headers }));
    if (body) socket.write(body);
  });
}

/** An upload that sends its body a few bytes at a time, as a slow or hostile client does. */
export interface Trickle {
  /** Settles when the server closes the connection, with what it sent (status 0: closed without answering). */
  readonly response: Promise<RawResponse>;
  /** Bytes of the body sent so far. */
  readonly sent: () => number;
  /** Stops sending and closes the connection. */
  stop(): void;
}

/**
 * Opens a connection, sends `head` at once, then `body` `bytesPerTick` bytes every `tickMs` until it
 * is all sent or the server closes the connection.
 */
export function trickle(port: number, head: string, body: Buffer, bytesPerTick = 16, tickMs = 50): Trickle {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let offset = 0;
  socket.write(head);
  const timer = setInterval(() => {
    if (socket.destroyed || offset >= body.length) { clearInterval(timer); return; }
    socket.write(body.subarray(offset, offset + bytesPerTick));
    offset += bytesPerTick;
  }, tickMs);
  socket.on('data', (d) => chunks.push(d));
  socket.on('error', () => {});
  const response = new Promise<RawResponse>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('latin1')));
    });
  });
  return { response, sent: () => Math.min(offset, body.length), stop: () => { clearInterval(timer); socket.destroy(); } };
}
