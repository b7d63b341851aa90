/**
 * Reading one request's photos from multipart form data into memory, with every limit checked as
 * the bytes arrive: number of files, bytes per file, bytes held by the whole server, format by
 * magic bytes, and pixels from the image header before any pixel is decoded (decompression bombs).
 */
import type { FastifyRequest } from 'fastify';
import sharp, { type Metadata } from 'sharp';
import type { ServerConfig } from '../config.ts';
import { ApiError } from './errors.ts';
import { ACCEPTED_UPLOADS, sniffImage, type SniffedFormat } from './sniff.ts';
import type { UploadedPhoto } from './types.ts';

/** The form field photos are sent in (CLI contract: "one or more `photos` fields"). */
export const PHOTO_FIELD = 'photos';

/** A photo as read: the upload plus its sniffed format. */
export interface ReadPhoto extends UploadedPhoto {
  sniffed: SniffedFormat;
}

/** Bytes held in memory by all requests of one server; taking beyond the budget throws 503. */
export class ByteBudget {
  private held = 0;
  constructor(readonly maxBytes: number, private readonly retryAfterSec: () => number) {}
  get bytes(): number { return this.held; }
  take(n: number): void {
    if (this.held + n > this.maxBytes) {
      throw new ApiError(503, 'E_BUSY', 'The server is holding as many uploads as it can; try again shortly.', { 'retry-after': String(this.retryAfterSec()) });
    }
    this.held += n;
  }
  give(n: number): void { this.held -= n; }
}

const MB = (n: number) => `${(n / 1024 / 1024).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MB`;

/**
 * Reads every `photos` file of the request. The caller must `budget.give(total)` with the returned
 * `heldBytes` when done, even on error (use `onHeld` to learn bytes taken so far).
 */
export async function readPhotos(
  request: FastifyRequest,
  cfg: Pick<ServerConfig, 'maxFileBytes' | 'maxPixels' | 'maxFiles'>,
  budget: ByteBudget,
  onHeld: (bytes: number) => void,
): Promise<ReadPhoto[]> {
  if (!request.isMultipart()) {
    throw new ApiError(415, 'E_UNSUPPORTED', `Content-Type "${request.headers['content-type'] ?? ''}" is not accepted. Expected multipart/form-data with one or more "${PHOTO_FIELD}" file fields.`);
  }
  const photos: ReadPhoto[] = [];
  const parts = request.parts({
    limits: { fileSize: cfg.maxFileBytes, files: cfg.maxFiles, fields: 10, fieldSize: 1024, parts: cfg.maxFiles + 10, headerPairs: 100 },
  });
  for await (const part of parts) {
    if (part.type !== 'file') continue; // plain fields carry nothing we use
    const label = photos.length + 1;
    if (part.fieldname !== PHOTO_FIELD) {
      part.file.resume();
      throw new ApiError(400, 'E_INPUT', `Unexpected file field "${part.fieldname}". Expected photos in "${PHOTO_FIELD}" fields.`);
    }
    const name = part.filename || `photo ${label}`;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of part.file as AsyncIterable<Buffer>) {
      budget.take(chunk.length);
      onHeld(chunk.length);
      size += chunk.length;
      chunks.push(chunk);
    }
    if (part.file.truncated) {
      throw new ApiError(413, 'E_TOO_LARGE', `Photo ${JSON.stringify(name)} is larger than ${MB(cfg.maxFileBytes)}. Expected at most ${MB(cfg.maxFileBytes)} a photo; export a smaller JPEG.`);
    }
    const bytes = Buffer.concat(chunks, size);
    photos.push({ name, bytes, sniffed: await checkPhoto(name, bytes, cfg.maxPixels) });
  }
  if (photos.length === 0) {
    throw new ApiError(400, 'E_INPUT', `No photo in the request. Expected one or more "${PHOTO_FIELD}" file fields (multipart/form-data).`);
  }
  return photos;
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
    const detail = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new ApiError(422, 'E_DECODE', `${what} looks like ${sniffed.format.toUpperCase()} but its header cannot be read (${detail}). Expected a complete, uncorrupted photo.`);
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
