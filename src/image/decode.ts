/**
 * Decoding photos with sharp (libvips) into 8-bit RGB, safely: the format is sniffed from the bytes
 * (never the extension), size limits are checked from the header before any pixel is decoded
 * (decompression bombs), EXIF orientation is applied, and every failure is a typed error naming the
 * file. Coordinates downstream are in the EXIF-oriented, full-size photo.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { DEFAULTS, type ImageConfig } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';

/** A decoded photo. Pixels may be downscaled (`scale` < 1); sizes are the oriented full-size photo's. */
export interface DecodedImage extends RgbImage {
  /** Width of the EXIF-oriented photo at full size. */
  originalWidth: number;
  /** Height of the EXIF-oriented photo at full size. */
  originalHeight: number;
  /** Decoded pixels per original pixel (1 unless the photo exceeded `maxSidePx`). */
  scale: number;
  /** The format sharp detected from the content, e.g. `jpeg`, `png`, `webp`. */
  format: string;
}

// libvips uses a few threads per operation; the pipeline already runs two photos at once.
sharp.concurrency(2);
sharp.cache(false);

function describe(source: string | Buffer): string {
  return typeof source === 'string' ? source : 'the image';
}

async function readSource(source: string | Buffer, cfg: ImageConfig): Promise<Buffer> {
  if (typeof source !== 'string') {
    if (source.length === 0) throw new PhenofaceError('E_DECODE', 'Empty image data (0 bytes).');
    if (source.length > cfg.maxBytes) throw new PhenofaceError('E_TOO_LARGE', `Image data of ${source.length} bytes exceeds the limit of ${cfg.maxBytes} bytes.`);
    return source;
  }
  const st = await stat(source).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new PhenofaceError('E_NOT_FOUND', `No such file: ${source}`, { cause: err });
    throw new PhenofaceError('E_INPUT', `Cannot read ${source}: ${err.message}`, { cause: err });
  });
  if (st.isDirectory()) throw new PhenofaceError('E_INPUT', `${source} is a folder, not an image file.`);
  if (!st.isFile()) throw new PhenofaceError('E_INPUT', `${source} is not a regular file.`);
  if (st.size === 0) throw new PhenofaceError('E_DECODE', `${source} is empty (0 bytes): expected an image.`);
  if (st.size > cfg.maxBytes) throw new PhenofaceError('E_TOO_LARGE', `${source} is ${st.size} bytes; the limit is ${cfg.maxBytes} bytes.`);
  return readFile(source).catch((err: NodeJS.ErrnoException) => {
    throw new PhenofaceError('E_INPUT', `Cannot read ${source}: ${err.message}`, { cause: err });
  });
}

/**
 * Decodes a photo (file path or bytes) to 8-bit sRGB.
 * - Refused: empty, truncated or corrupt data and non-images (`E_DECODE`); more pixels than
 *   `maxPixels` or more bytes than `maxBytes` (`E_TOO_LARGE`, checked before decoding); a side
 *   shorter than `minSidePx` (`E_TOO_SMALL`). Truncated JPEGs are refused rather than decoded with
 *   a grey tail, which would silently corrupt a face's embedding.
 * - Converted: CMYK and greyscale to sRGB, 16-bit to 8-bit, alpha flattened onto white (the usual
 *   background of clinical photos and scans), animations to their first frame.
 * - Photos whose longer side exceeds `maxSidePx` are downscaled (`scale` < 1), shrink-on-load where the
 *   format allows, so a 12000x9000 photo costs tens of megabytes, not gigabytes.
 */
export async function decodeImage(source: string | Buffer, cfg: ImageConfig = DEFAULTS.image): Promise<DecodedImage> {
  const bytes = await readSource(source, cfg);
  const name = describe(source);
  const options = { limitInputPixels: cfg.maxPixels, failOn: 'truncated' as const, pages: 1, sequentialRead: true };
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, options).metadata();
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message)) {
      throw new PhenofaceError('E_TOO_LARGE', `${name} has more than ${cfg.maxPixels.toLocaleString('en')} pixels (the limit).`, { cause: err });
    }
    throw new PhenofaceError('E_DECODE', `${name} is not a readable image (${(err as Error).message.split('\n')[0]}).`, { cause: err });
  }
  if (!meta.width || !meta.height || !meta.format) throw new PhenofaceError('E_DECODE', `${name} is not a readable image (no size in its header).`);
  const pageHeight = meta.pageHeight && meta.pages && meta.pages > 1 ? meta.pageHeight : meta.height;
  if (meta.width * pageHeight > cfg.maxPixels) {
    throw new PhenofaceError('E_TOO_LARGE', `${name} is ${meta.width}x${pageHeight} pixels; the limit is ${cfg.maxPixels.toLocaleString('en')} pixels.`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? pageHeight : meta.width;
  const originalHeight = swap ? meta.width : pageHeight;
  if (Math.min(originalWidth, originalHeight) < cfg.minSidePx) {
    throw new PhenofaceError('E_TOO_SMALL', `${name} is ${originalWidth}x${originalHeight} pixels; a face needs at least ${cfg.minSidePx} pixels a side.`);
  }
  const longer = Math.max(originalWidth, originalHeight);
  let pipeline = sharp(bytes, options).rotate();
  if (longer > cfg.maxSidePx) pipeline = pipeline.resize({ width: originalWidth >= originalHeight ? cfg.maxSidePx : undefined, height: originalHeight > originalWidth ? cfg.maxSidePx : undefined, fit: 'inside' });
  try {
    const { data, info } = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      originalWidth,
      originalHeight,
      scale: info.width / originalWidth,
      format: meta.format,
    };
  } catch (err) {
    throw new PhenofaceError('E_DECODE', `${name} could not be decoded: it is truncated or corrupt (${(err as Error).message.split('\n')[0]}).`, { cause: err });
  }
}
