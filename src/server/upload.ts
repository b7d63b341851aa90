/**
 * Reading one request's photos from multipart form data into memory, with every limit checked as
 * the bytes arrive: number of files, bytes per file, bytes held by the whole server, format by
 * magic bytes, and pixels from the image header before any pixel is decoded (decompression bombs);
 * and the uploads in flight: a deadline for each that grows with its size, and a bound on how many
 * one client address may send at once.
 */
import type { FastifyRequest } from 'fastify';
import sharp, { type Metadata } from 'sharp';
import type { ServerConfig } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { ApiError } from './errors.ts';
import { ACCEPTED_UPLOADS, sniffImage, type SniffedFormat } from './sniff.ts';
import type { UploadedPhoto } from './types.ts';

/** The form field photos are sent in (CLI contract: "one or more `photos` fields"). */
export const PHOTO_FIELD = 'photos';

/** A photo as read: the upload plus its sniffed format and its place in the request (from 0). */
export interface ReadPhoto extends UploadedPhoto {
  sniffed: SniffedFormat;
  position: number;
}

/** A file of the request refused by its own checks (not a photo, an unreadable header, too many pixels): the others still go on. */
export interface RefusedPhoto {
  name: string;
  position: number;
  error: ApiError;
}

/** One file of the request: read, or refused on its own. */
export type ReceivedPhoto = ReadPhoto | RefusedPhoto;

/** True for a file that passed its checks. */
export const isReadPhoto = (p: ReceivedPhoto): p is ReadPhoto => !('error' in p);

const MiB = 1024 * 1024;
const MB = (n: number) => `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MB`;
const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** Bytes held in memory by all requests of one server; taking beyond the budget throws 503. */
export class ByteBudget {
  private held = 0;
  constructor(readonly maxBytes: number) {}
  /** Bytes held now. */
  get bytes(): number { return this.held; }
  /** Takes `n` bytes, or throws 503 E_BUSY whose Retry-After is `retryAfterSec()`: when bytes are next expected back. */
  take(n: number, retryAfterSec: () => number): void {
    if (this.held + n > this.maxBytes) {
      throw new ApiError(503, 'E_BUSY', `The server is holding as many uploads as it can (${MB(this.maxBytes)}); try again shortly.`, { 'retry-after': String(retryAfterSec()) });
    }
    this.held += n;
  }
  /** Gives back `n` bytes taken before. */
  give(n: number): void { this.held -= n; }
}

/** The limits {@link UploadsInFlight} applies (fields of the server config). */
export type UploadLimits = Pick<ServerConfig, 'uploadMinMs' | 'uploadMsPerMB' | 'requestTimeoutMs' | 'maxUploadsPerClient' | 'maxFiles' | 'maxFileBytes'>;

/** Form-data headers and boundaries around the photos: far more than any real form needs. */
const MULTIPART_OVERHEAD_BYTES = MiB;

/**
 * One upload being received: it has a deadline, and its `signal` aborts (with a 408 ApiError) when
 * the body has not fully arrived by then. The deadline grows with the size: with a Content-Length
 * it is fixed from that (capped at the largest request the limits allow, so a client cannot buy
 * time by declaring gigabytes); without one it follows the bytes received so far.
 */
export class Upload {
  private readonly controller = new AbortController();
  private receivedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();

  constructor(readonly client: string, private readonly declaredBytes: number | undefined, private readonly limits: UploadLimits, private readonly onEnd: (u: Upload) => void) {
    this.arm();
  }

  /** Aborts when the upload is cut (deadline, shutdown); its reason is the ApiError to answer with. */
  get signal(): AbortSignal { return this.controller.signal; }

  /** Milliseconds this upload may take in all, as of now. */
  allowedMs(): number {
    const cap = this.limits.maxFiles * this.limits.maxFileBytes + MULTIPART_OVERHEAD_BYTES;
    const size = Math.min(this.declaredBytes ?? this.receivedBytes, cap);
    return Math.min(this.limits.requestTimeoutMs, Math.max(this.limits.uploadMinMs, (this.limits.uploadMsPerMB * size) / MiB));
  }

  /** Milliseconds left before the deadline (0 when it has passed). */
  remainingMs(): number {
    return Math.max(0, this.startedAt + this.allowedMs() - performance.now());
  }

  /** Counts bytes as they arrive (they extend the deadline of a body sent without Content-Length). */
  received(n: number): void { this.receivedBytes += n; }

  /** Cuts the upload: `signal` aborts with `reason`. */
  abort(reason: ApiError): void {
    this.end();
    this.controller.abort(reason);
  }

  /** The body has been read (or the request failed): frees the client's slot. Idempotent. */
  end(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.onEnd(this);
  }

  private arm(): void {
    // Re-armed rather than set once: without a Content-Length, bytes received move the deadline.
    this.timer = setTimeout(() => {
      if (this.remainingMs() > 0) this.arm();
      else this.abort(this.tooSlow());
    }, Math.max(1, this.remainingMs()));
    this.timer.unref();
  }

  private tooSlow(): ApiError {
    const l = this.limits;
    return new ApiError(408, 'E_INPUT', `The upload was too slow: ${MB(this.receivedBytes)} arrived in ${seconds(performance.now() - this.startedAt)}. Expected the whole request within ${seconds(this.allowedMs())} (${seconds(l.uploadMsPerMB)} per MB, at least ${seconds(l.uploadMinMs)}).`);
  }
}

/**
 * The uploads being received, by client address. A request's body is read before it may join the
 * screening queue, so a slow upload costs a connection and its bytes, never a screening slot; this
 * bounds the connections one address can hold that way and the time each may take.
 */
export class UploadsInFlight {
  private readonly byClient = new Map<string, Set<Upload>>();

  constructor(private readonly limits: UploadLimits) {
    const { maxUploadsPerClient: perClient, uploadMinMs: minMs, uploadMsPerMB: perMB } = limits;
    if (!(Number.isInteger(perClient) && perClient >= 1)) throw new PhenofaceError('E_CONFIG', `Invalid maxUploadsPerClient: ${perClient}. Should be an integer >= 1.`);
    if (!(Number.isFinite(minMs) && minMs >= 0)) throw new PhenofaceError('E_CONFIG', `Invalid uploadMinMs: ${minMs}. Should be a number of milliseconds >= 0.`);
    if (!(Number.isFinite(perMB) && perMB >= 0)) throw new PhenofaceError('E_CONFIG', `Invalid uploadMsPerMB: ${perMB}. Should be a number of milliseconds >= 0.`);
  }

  /**
   * Starts receiving an upload from `client` (an address), or throws 503 E_BUSY when that address
   * already has `maxUploadsPerClient` uploads arriving; its Retry-After is the time until the
   * first of them reaches its deadline, when a slot is free at the latest.
   */
  begin(client: string, declaredBytes: number | undefined): Upload {
    const mine = this.byClient.get(client) ?? new Set<Upload>();
    if (mine.size >= this.limits.maxUploadsPerClient) {
      throw new ApiError(503, 'E_BUSY', `This address already has ${mine.size} uploads arriving, the most the server accepts at once from one address (${this.limits.maxUploadsPerClient}). Expected the next upload once one of those has finished.`, { 'retry-after': String(this.secondsToFirstDeadline(client) ?? 1) });
    }
    const upload = new Upload(client, declaredBytes, this.limits, (u) => this.forget(u));
    this.byClient.set(client, mine.add(upload));
    return upload;
  }

  /**
   * Whole seconds (at least 1) until the first upload reaches its deadline: of `client` when given,
   * else of anyone, leaving out `except`. `undefined` when there is no such upload.
   */
  secondsToFirstDeadline(client?: string, except?: Upload): number | undefined {
    const uploads = client === undefined ? [...this.byClient.values()].flatMap((set) => [...set]) : [...(this.byClient.get(client) ?? [])];
    const remaining = uploads.filter((u) => u !== except).map((u) => u.remainingMs());
    return remaining.length === 0 ? undefined : Math.max(1, Math.ceil(Math.min(...remaining) / 1000));
  }

  /** Cuts every upload still arriving (on shutdown: no screening has begun on them). */
  abortAll(reason: ApiError): void {
    for (const set of [...this.byClient.values()]) for (const upload of [...set]) upload.abort(reason);
  }

  private forget(upload: Upload): void {
    const mine = this.byClient.get(upload.client);
    mine?.delete(upload);
    if (mine?.size === 0) this.byClient.delete(upload.client);
  }
}

/**
 * Reads every `photos` file of the request into memory. `hold(n)` is called for each chunk before
 * it is kept and may throw to refuse it (the byte budget). When `signal` aborts, reading stops at
 * once and its reason is thrown. Every way form data can be malformed is a 400 E_INPUT that says so;
 * so are the request's limits (files, bytes). A file that fails its own checks ({@link checkPhoto})
 * is returned refused, in its place, so that the photos beside it can still be screened.
 */
export async function readPhotos(
  request: FastifyRequest,
  cfg: Pick<ServerConfig, 'maxFileBytes' | 'maxPixels' | 'maxFiles'>,
  hold: (bytes: number) => void,
  signal: AbortSignal = new AbortController().signal,
): Promise<ReceivedPhoto[]> {
  if (!request.isMultipart()) {
    throw new ApiError(415, 'E_UNSUPPORTED', `Content-Type "${request.headers['content-type'] ?? ''}" is not accepted. Expected multipart/form-data with one or more "${PHOTO_FIELD}" file fields.`);
  }
  checkBoundary(request.headers['content-type'] ?? '');
  const cancelled = rejectOnAbort(signal).catch((reason: unknown) => {
    throw cutReason(reason, request.raw.complete);
  });
  cancelled.catch(() => {}); // observed through Promise.race; unobserved when cut after the last part
  const next = <T>(it: AsyncIterator<T>) => nextOf(it, cancelled, cfg);
  const photos: ReceivedPhoto[] = [];
  const parts = request.parts({
    limits: { fileSize: cfg.maxFileBytes, files: cfg.maxFiles, fields: MAX_FIELDS, fieldSize: 1024, parts: cfg.maxFiles + MAX_FIELDS, headerPairs: 100 },
  })[Symbol.asyncIterator]();
  for (let step = await next(parts); !step.done; step = await next(parts)) {
    const part = step.value;
    if (part.type !== 'file') {
      if (part.fieldname === PHOTO_FIELD) throw new ApiError(400, 'E_INPUT', `Field "${PHOTO_FIELD}" holds text, not a file. Expected each photo as a file part (Content-Disposition: form-data; name="${PHOTO_FIELD}"; filename="...").`);
      continue; // other plain fields carry nothing we use
    }
    const label = photos.length + 1;
    if (part.fieldname !== PHOTO_FIELD) {
      part.file.resume();
      throw new ApiError(400, 'E_INPUT', `Unexpected file field "${part.fieldname}". Expected photos in "${PHOTO_FIELD}" fields.`);
    }
    const name = part.filename || `photo ${label}`;
    const chunks: Buffer[] = [];
    let size = 0;
    const file = (part.file as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (let chunk = await next(file); !chunk.done; chunk = await next(file)) {
      hold(chunk.value.length);
      size += chunk.value.length;
      chunks.push(chunk.value);
    }
    if (part.file.truncated) {
      throw new ApiError(413, 'E_TOO_LARGE', `Photo ${JSON.stringify(name)} is larger than ${MB(cfg.maxFileBytes)}. Expected at most ${MB(cfg.maxFileBytes)} a photo; export a smaller JPEG.`);
    }
    photos.push(await checkedPhoto(name, Buffer.concat(chunks, size), cfg.maxPixels, photos.length));
  }
  if (photos.length === 0) {
    throw new ApiError(400, 'E_INPUT', `No photo in the request. Expected one or more "${PHOTO_FIELD}" file fields (multipart/form-data).`);
  }
  return photos;
}

/**
 * Why an upload was cut at its deadline: too slow (408), unless its body had arrived whole
 * (`complete`). Then the form parser stopped short of the end: @fastify/busboy skips a part
 * without a `Content-Disposition: form-data` header, and one larger than its buffer (about
 * 16 KB) stalls it. "Too slow" would send the user to look at their network.
 */
function cutReason(reason: unknown, complete: boolean): unknown {
  if (!(reason instanceof ApiError) || reason.status !== 408 || !complete) return reason;
  return new ApiError(400, 'E_INPUT', `The form data arrived whole but could not be read to its end: a part without a "Content-Disposition: form-data; name=..." header stops the parser. ${EXPECTED_FORM}`);
}

/** Plain form fields accepted beside the photos (the page sends none; a few are harmless). */
const MAX_FIELDS = 10;

const EXPECTED_FORM = `Expected multipart/form-data with one or more "${PHOTO_FIELD}" file fields, as a browser's FormData or \`curl -F ${PHOTO_FIELD}=@photo.jpg\` sends it.`;

/** A multipart Content-Type must name its boundary (RFC 2046: 1 to 70 characters). */
function checkBoundary(contentType: string): void {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2] ?? '';
  if (boundary.length === 0 || boundary.length > 70) {
    throw new ApiError(400, 'E_INPUT', `Content-Type "${contentType}" ${boundary ? 'has a boundary longer than 70 characters' : 'names no boundary'}. ${EXPECTED_FORM}`);
  }
}

/** A promise that rejects with the signal's reason when it aborts (and never resolves). */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  p.catch(() => {}); // observed through Promise.race; unobserved when never aborted
  return p;
}

/**
 * The next part or chunk of the form, or the abort's reason when that comes first. The parser's
 * own errors (a bad boundary, a truncated body, a malformed part header, too many parts) become
 * 400s that say what was expected; our own refusals pass through.
 */
async function nextOf<T>(it: AsyncIterator<T>, cancelled: Promise<never>, cfg: Pick<ServerConfig, 'maxFiles'>): Promise<IteratorResult<T>> {
  try {
    return await Promise.race([it.next(), cancelled]);
  } catch (err) {
    throw formError(err, cfg);
  }
}

function formError(err: unknown, cfg: Pick<ServerConfig, 'maxFiles'>): unknown {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown })?.code;
  if (code === 'FST_FILES_LIMIT') return new ApiError(413, 'E_TOO_LARGE', `More than ${cfg.maxFiles} photos in one request. Expected at most ${cfg.maxFiles} "${PHOTO_FIELD}" files (one patient's photos).`);
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new ApiError(400, 'E_INPUT', `Too many form parts. Expected at most ${cfg.maxFiles} "${PHOTO_FIELD}" files and ${MAX_FIELDS} other fields.`);
  }
  if (code === 'FST_PROTO_VIOLATION') return new ApiError(400, 'E_INPUT', `A form field is named after a JavaScript prototype property. ${EXPECTED_FORM}`);
  if (code === 'FST_MP_PREMATURE_CLOSE') return new ApiError(400, 'E_INPUT', `The upload ended before the form data was complete. ${EXPECTED_FORM}`);
  // The parser's message names the fault in the form's structure (never its content).
  const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 120);
  return new ApiError(400, 'E_INPUT', `The form data is malformed (${detail}). ${EXPECTED_FORM}`);
}

/** One file after {@link checkPhoto}: read, or refused with the check's error. */
async function checkedPhoto(name: string, bytes: Buffer, maxPixels: number, position: number): Promise<ReceivedPhoto> {
  try {
    return { name, bytes, position, sniffed: await checkPhoto(name, bytes, maxPixels) };
  } catch (err) {
    if (err instanceof ApiError) return { name, position, error: err };
    throw err;
  }
}

/** Format and pixel checks of one photo, from its bytes' signature and header only. */
export async function checkPhoto(name: string, bytes: Buffer, maxPixels: number): Promise<SniffedFormat> {
  const what = `Photo ${JSON.stringify(name)}`;
  if (bytes.length === 0) throw new ApiError(422, 'E_DECODE', `${what} is empty (0 bytes). Expected a ${ACCEPTED_UPLOADS} photo.`);
  const sniffed = sniffImage(bytes);
  if (!sniffed) {
    throw new ApiError(415, 'E_UNSUPPORTED', `${what} is not a ${ACCEPTED_UPLOADS} image (judged from its content, not its name). Expected a photograph in one of those formats.`);
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    // sharp's message is libvips' error text, one buffer for the whole process: while the
    // screening worker decodes other people's photos it may describe one of theirs, so it is not quoted.
    throw new ApiError(422, 'E_DECODE', `${what} looks like ${sniffed.format.toUpperCase()} but its header cannot be read: it is truncated or corrupt. Expected a complete, uncorrupted photo.`, {}, {}, { cause: err });
  }
  if (sniffed.format === 'heif' && meta.compression === 'hevc') {
    throw new ApiError(415, 'E_UNSUPPORTED', `${what} is a HEIC (HEVC) photo, which this server cannot decode. Expected ${ACCEPTED_UPLOADS}; export it as JPEG (iPhone: Settings > Camera > Formats > Most Compatible).`);
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new ApiError(413, 'E_TOO_LARGE', `${what} is ${width}x${height} = ${(width * height / 1e6).toFixed(1)} megapixels. Expected at most ${(maxPixels / 1e6).toFixed(0)} megapixels.`);
  }
  return sniffed;
}
