/**
 * Decoding photos into 8-bit RGB with sharp (libvips), safely.
 *
 * A photo handed to Phenoface may be anything: a 108-MP phone photo, a CMYK scan, a 16-bit PNG, a
 * cut-out portrait with transparency, a text file renamed `.jpg`, or a 100-byte PNG that claims to
 * be 30000x30000 (a decompression bomb). This module turns all of them into either an
 * {@link DecodedImage} or a {@link PhenofaceError} with a stable code, and bounds what a hostile
 * file can cost: the file size is checked before reading, the header (sharp `metadata()`) before
 * decoding any pixel, and large photos are shrunk while they are decoded (libjpeg's
 * shrink-on-load for JPEG), never held at full size when `maxSidePx` is smaller.
 *
 * Choices, documented once here:
 * - **Content decides the format**, never the file name: sharp sniffs the bytes. Accepted: JPEG,
 *   PNG, WebP, GIF, TIFF and AVIF/HEIF (first frame or page of animations and multi-page files).
 *   SVG and libvips' own format are refused (`E_UNSUPPORTED`): they are not photographs.
 * - **EXIF orientation is applied**, so pixels and sizes are those of the upright photo, the
 *   coordinate system of the CLI contract.
 * - **Colour**: embedded ICC profiles are converted to sRGB (sharp's default); CMYK, greyscale,
 *   palette and 16-bit images become 8-bit sRGB. A profile that already describes sRGB (most
 *   cameras' "sRGB IEC61966-2.1") is not run through the colour engine: the conversion changes no
 *   pixel (face-api's demo photos: maximum difference 0) but cost two thirds of the decode (lcms,
 *   ~40 of ~60 ms for a 2.5-MP JPEG on one core). Other profiles (Display P3, Adobe RGB, CMYK) are converted.
 * - **Transparency is flattened on white**: transparent regions of cut-out portraits are usually
 *   meant as a plain light background, like a studio backdrop; black would add hard dark edges.
 * - **Truncated or corrupt files are refused** (`E_DECODE`), even when most of the picture is
 *   readable: libjpeg would fill the missing part with grey, and a screening result computed from a
 *   partly grey face must not be returned silently. Refused: every decoder error, and every JPEG
 *   whose image data ends early (a premature end, also when a truncated file was closed with an end
 *   marker) or cannot be Huffman-decoded. Accepted, because they lose no pixel: JPEGs whose decoder
 *   only warns about something else (extraneous bytes before a marker, the "invalid SOS parameters"
 *   of some Samsung phones, for which sharp's maintainer advises `failOn: 'error'`, lovell/sharp#3488),
 *   and a JPEG that lacks only its 2-byte end marker.
 *   To use a truncated photo anyway, open it in an image editor and save it again: that keeps the
 *   readable part on purpose.
 * - **Decisions come from per-file facts only**: whether each libvips load of this file passed or
 *   failed, and what {@link checkJpegData} reads in the file's own bytes. libvips keeps its error text
 *   in one buffer for the whole process, so while other photos decode (the pipeline pool's worker
 *   threads share one process) the text of a failure may be another photo's, or empty; it is never
 *   read to decide, nor quoted in a message.
 */
import { stat, readFile } from 'node:fs/promises';
import { parse as parseIcc } from 'icc';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { DEFAULTS, type ImageConfig } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';
import { checkJpegData } from './jpeg-data.ts';

// The pipeline never decodes the same photo twice, so libvips' operation cache would only hold
// memory; two libvips threads per photo suit the two photos the pipeline decodes at once.
sharp.cache(false);
sharp.concurrency(2);

/** A decoded photo, possibly downscaled, with what is needed to map coordinates back. */
export interface DecodedImage extends RgbImage {
  /** Width of the whole EXIF-oriented photo, in original pixels (the CLI contract's coordinates). */
  originalWidth: number;
  /** Height of the whole EXIF-oriented photo, in original pixels. */
  originalHeight: number;
  /**
   * Decoded pixels per original pixel: 1, or `maxSidePx / longer side` when the photo was shrunk.
   * Exact along the longer side; the shorter side is rounded to whole pixels, so its ratio of
   * decoded to original size may differ from `scale` by up to `0.5 / (its original size)`.
   * Boxes and landmarks cross between the two grids corner-aligned (`x * scale` to the decoded
   * copy, `x / scale` back): `toDecoded` / `toOriginal` in `coords.ts`.
   */
  scale: number;
  /** sharp's name for the format found in the bytes: `jpeg`, `png`, `webp`, `gif`, `tiff`, `heif`. */
  format: string;
  /** How many frames or pages the file holds, when more than one (an animation, a multi-page TIFF): only the first was decoded. */
  pages?: number;
}

/** Formats accepted, by sharp's name (`heif` covers AVIF). */
export const ACCEPTED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'];

const ACCEPTED_TEXT = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

/** A photo as error messages about it name it: the file's path, or the uploaded bytes' `name`. */
export function imageName(source: string | Buffer, name?: string): string {
  return typeof source === 'string' ? `Image file ${JSON.stringify(source)}` : `Image ${name === undefined ? 'buffer' : JSON.stringify(name)}`;
}

/**
 * Decode a photo (a file path or its bytes) into upright 8-bit sRGB, downscaled so that its longer
 * side is at most `cfg.maxSidePx`.
 *
 * @param source a file path, or the file's bytes (e.g. an upload)
 * @param cfg limits; see {@link ImageConfig}
 * @param name how to name a buffer in error messages (e.g. the upload's file name); paths name themselves
 * @throws PhenofaceError `E_NOT_FOUND` (no such file), `E_INPUT` (a folder, unreadable, not a regular
 *   file), `E_TOO_LARGE` (over `maxBytes` or `maxPixels`), `E_DECODE` (empty, truncated, corrupt, not
 *   an image), `E_UNSUPPORTED` (an image format we refuse), `E_TOO_SMALL` (a side under `minSidePx`).
 */
export async function decodeImage(
  source: string | Buffer,
  cfg: ImageConfig = DEFAULTS.image,
  name?: string,
): Promise<DecodedImage> {
  const what = imageName(source, name);
  const bytes = typeof source === 'string' ? await readImageFile(source, what, cfg) : source;
  if (bytes.length === 0) throw new PhenofaceError('E_DECODE', `${what} is an empty file (0 bytes). Expected a ${ACCEPTED_TEXT} image.`);
  if (bytes.length > cfg.maxBytes) throw tooManyBytes(what, bytes.length, cfg);
  const header = await readHeader(bytes, what, cfg);
  const size = decodedSize(header, what, cfg);
  const data = await decodePixels(bytes, header, size, what, cfg);
  const pages = header.meta.pages ?? 1;
  return { width: size.width, height: size.height, data, originalWidth: header.originalWidth, originalHeight: header.originalHeight, scale: size.scale, format: header.format, ...(pages > 1 ? { pages } : {}) };
}

/** What the header says: sharp's metadata, the accepted format and the upright (EXIF-oriented) size. */
interface Header {
  meta: Metadata;
  format: string;
  originalWidth: number;
  originalHeight: number;
}

/**
 * The header only: format, size, orientation. No pixel is decoded yet, so no pixel limit is
 * needed here; ours names the size, and sharp's stays on for the decode as a second guard.
 */
async function readHeader(bytes: Buffer, what: string, cfg: ImageConfig): Promise<Header> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (err) {
    throw unreadableHeader(what, bytes, err);
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.includes(format)) {
    throw new PhenofaceError('E_UNSUPPORTED', `${what} is in format "${format}", which Phenoface does not accept. Expected a ${ACCEPTED_TEXT} photograph.`);
  }
  if (format === 'heif' && meta.compression === 'hevc') {
    throw new PhenofaceError('E_UNSUPPORTED', `${what} is a HEIC (HEVC) photo, which this build cannot decode. Expected ${ACCEPTED_TEXT}; export the photo as JPEG (e.g. iPhone: Settings > Camera > Formats > Most Compatible).`);
  }
  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.pageHeight ?? meta.height ?? 0;
  if (!(storedWidth > 0 && storedHeight > 0)) {
    throw new PhenofaceError('E_DECODE', `${what} has no image size in its header. Expected a valid ${ACCEPTED_TEXT} file.`);
  }
  if (storedWidth * storedHeight > cfg.maxPixels) {
    throw new PhenofaceError('E_TOO_LARGE', `${what} claims ${storedWidth}x${storedHeight} = ${storedWidth * storedHeight} pixels. Expected at most ${cfg.maxPixels} pixels (image.maxPixels); refused before decoding.`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? storedHeight : storedWidth;
  const originalHeight = swap ? storedWidth : storedHeight;
  if (Math.min(originalWidth, originalHeight) < cfg.minSidePx) {
    throw new PhenofaceError('E_TOO_SMALL', `${what} is ${originalWidth}x${originalHeight} pixels. Expected at least ${cfg.minSidePx} pixels on each side (image.minSidePx).`);
  }
  return { meta, format, originalWidth, originalHeight };
}

/** The decoded size: the upright photo, its longer side shrunk to `maxSidePx` when over it. */
function decodedSize({ originalWidth, originalHeight }: Header, what: string, cfg: ImageConfig): { width: number; height: number; scale: number } {
  const longer = Math.max(originalWidth, originalHeight);
  const scale = longer > cfg.maxSidePx ? cfg.maxSidePx / longer : 1;
  const width = scale === 1 ? originalWidth : Math.max(1, Math.round(originalWidth * scale));
  const height = scale === 1 ? originalHeight : Math.max(1, Math.round(originalHeight * scale));
  if (Math.min(width, height) < cfg.minSidePx) {
    throw new PhenofaceError('E_TOO_SMALL', `${what} is ${originalWidth}x${originalHeight} pixels, ${width}x${height} once its longer side is reduced to ${cfg.maxSidePx} (image.maxSidePx). Expected at least ${cfg.minSidePx} pixels on each side (image.minSidePx).`);
  }
  return { width, height, scale };
}

/** Pixels: upright, shrunk while decoding when too large, flattened, 8-bit sRGB. */
async function decodePixels(bytes: Buffer, { meta, format }: Header, { width, height, scale }: { width: number; height: number; scale: number }, what: string, cfg: ImageConfig): Promise<Uint8Array> {
  const limitInputPixels = Math.max(1, Math.floor(cfg.maxPixels));
  const ignoreIcc = meta.icc !== undefined && isSrgbProfile(meta.icc);
  const decode: Decode = (input, failOn) => {
    const pipeline = sharp(input, { failOn, limitInputPixels, ignoreIcc }).rotate();
    return (scale === 1 ? pipeline : pipeline.resize(width, height, { fit: 'fill' }))
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  };
  // Strictly first: the load fails on any decoder warning, so a pass needs nothing more. A failure
  // says only that something went wrong; what, each file's own facts tell (the two functions below).
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await decode(bytes, 'warning');
  } catch (err) {
    out = await (format === 'jpeg' ? decodeJpegAfterWarning(bytes, decode, what, err) : decodeAfterWarning(bytes, decode, what, format));
  }
  const { info, data } = out;
  if (info.channels !== 3 || info.width !== width || info.height !== height) {
    throw new PhenofaceError('E_INTERNAL', `${what} decoded to ${info.width}x${info.height}x${info.channels}; expected ${width}x${height}x3.`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * True when an ICC profile describes sRGB (an RGB profile whose description names sRGB, e.g.
 * "sRGB IEC61966-2.1", "sRGB built-in"): converting from it to sRGB is a no-op the decoder may skip.
 * A profile that cannot be parsed is not trusted to be sRGB (libvips then handles it as it would).
 */
export function isSrgbProfile(icc: Buffer): boolean {
  try {
    const p = parseIcc(icc);
    return p.colorSpace === 'RGB' && /\bsRGB\b/i.test(p.description ?? '');
  } catch {
    return false;
  }
}

/** Read a file after checking, from its `stat`, that it is a regular file within the byte limit. */
async function readImageFile(path: string, what: string, cfg: ImageConfig): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new PhenofaceError('E_INPUT', `${what} is a folder. Expected an image file.`);
    if (!st.isFile()) throw new PhenofaceError('E_INPUT', `${what} is not a regular file (a device, pipe or socket). Expected an image file.`);
    if (st.size > cfg.maxBytes) throw tooManyBytes(what, st.size, cfg);
    return await readFile(path);
  } catch (err) {
    if (err instanceof PhenofaceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && path.includes('\uFFFD')) {
      // Node decodes file names (arguments, folder listings) as UTF-8 and puts U+FFFD where bytes
      // are not: a name with such bytes cannot be opened by the name Node gives it.
      throw new PhenofaceError('E_INPUT', `${what} cannot be opened: its name holds bytes that are not UTF-8 (shown as \uFFFD), which Phenoface reads as UTF-8, so it cannot open the file by that name. Rename the file with a UTF-8 name.`, { cause: err });
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PhenofaceError('E_NOT_FOUND', `${what} does not exist. Expected a path to an image file.`, { cause: err });
    }
    if (code === 'EISDIR') throw new PhenofaceError('E_INPUT', `${what} is a folder. Expected an image file.`, { cause: err });
    const why = code === 'ELOOP' ? ': a symbolic link that leads back to itself (a loop?)' : code === 'EACCES' ? ': permission denied' : '';
    throw new PhenofaceError('E_INPUT', `${what} cannot be read (${code ?? String(err)}${why}). Expected a readable image file.`, { cause: err });
  }
}

function tooManyBytes(what: string, size: number, cfg: ImageConfig): PhenofaceError {
  return new PhenofaceError('E_TOO_LARGE', `${what} is ${size} bytes. Expected at most ${cfg.maxBytes} bytes (image.maxBytes).`);
}

type Decode = (input: Buffer, failOn: SharpOptions['failOn']) => Promise<{ data: Buffer; info: OutputInfo }>;

const EOI = Buffer.from([0xff, 0xd9]);

/**
 * A JPEG whose strict decode failed: a warning or an error, libvips cannot say which to this caller
 * (its text is process-wide). The file's own bytes decide: a scan whose data ends early, or data
 * that cannot be Huffman-decoded, is refused; with every scan whole, the warning lost no pixel (e.g.
 * extraneous bytes before a marker), and the file is decoded at libvips' `truncated` level, with its
 * end marker added when only that is missing. That load's pass/fail decides the rest (a decoder
 * error fails it). The check costs 5-10 ms on a 2.5-MP baseline JPEG (30-45 ms progressive), and runs
 * only here, never after a strict decode that passed. `strictError` is kept as the cause; its text
 * is libvips' shared buffer and may describe another photo.
 */
async function decodeJpegAfterWarning(bytes: Buffer, decode: Decode, what: string, strictError: unknown): Promise<{ data: Buffer; info: OutputInfo }> {
  const report = checkJpegData(bytes);
  if (report.fault?.kind === 'missing') {
    throw new PhenofaceError('E_DECODE', `${what} is truncated: ${report.fault.detail}. Expected a complete JPEG file; re-export it, or re-save it in an image editor to keep its readable part.`, { cause: strictError });
  }
  if (report.fault?.kind === 'corrupt') {
    throw new PhenofaceError('E_DECODE', `${what} is corrupt: ${report.fault.detail}. Expected a valid JPEG file; re-export it.`, { cause: strictError });
  }
  if (report.fault?.kind === 'unsupported') {
    throw new PhenofaceError('E_DECODE', `${what} failed a strict decode, and its image data cannot be checked: ${report.fault.detail}. Expected a Huffman-coded baseline or progressive JPEG; re-export it.`, { cause: strictError });
  }
  try {
    return await decode(report.hasEndMarker ? bytes : Buffer.concat([bytes, EOI]), 'truncated');
  } catch (err) {
    throw new PhenofaceError('E_DECODE', `${what} could not be decoded: its image data is whole, but the JPEG decoder refused the file. Expected a valid JPEG file; re-export it.`, { cause: err });
  }
}

/**
 * A PNG, WebP, GIF, TIFF or AVIF whose strict decode failed: accepted when a load at libvips'
 * `truncated` level passes (a warning that lost no pixel, e.g. a bad checksum of an ancillary PNG
 * chunk), refused when it fails too (these loaders fail at that level on every truncation tried:
 * cut files, PNGs with IDAT chunks dropped or cut and closed with IEND, GIFs closed with a trailer).
 */
async function decodeAfterWarning(bytes: Buffer, decode: Decode, what: string, format: string): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await decode(bytes, 'truncated');
  } catch (err) {
    throw new PhenofaceError('E_DECODE', `${what} is truncated or corrupt: its ${formatName(format)} decoder could not read all of its pixels. Expected a complete ${ACCEPTED_TEXT} file; re-export it, or re-save it in an image editor to keep its readable part.`, { cause: err });
  }
}

/** The accepted formats' names as users know them, by sharp's name. */
function formatName(format: string): string {
  return ({ jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', tiff: 'TIFF', heif: 'AVIF/HEIF' } as Record<string, string>)[format] ?? format;
}

/**
 * The accepted format whose signature starts `bytes`, if any: the per-file fact that tells a
 * damaged photo (its header cannot be read) from something that is not an image at all.
 */
function sniffFormat(bytes: Buffer): string | undefined {
  const ascii = (at: number, text: string) => bytes.toString('latin1', at, at + text.length) === text;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (ascii(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'tiff';
  if (ascii(4, 'ftyp') && /^(avi[fs]|hei[cmsx]|hev[cx]|mif1|msf1)$/.test(bytes.toString('latin1', 8, 12))) return 'heif';
  return undefined;
}

/** The header could not be read (sharp `metadata()` failed): a damaged photo, or not an image. */
function unreadableHeader(what: string, bytes: Buffer, err: unknown): PhenofaceError {
  const format = sniffFormat(bytes);
  if (format === undefined) {
    return new PhenofaceError('E_DECODE', `${what} is not a recognised image. Expected ${ACCEPTED_TEXT} content (the file name's extension is not trusted).`, { cause: err });
  }
  const name = formatName(format);
  return new PhenofaceError('E_DECODE', `${what} starts like ${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name} file, but its header cannot be read: it is truncated or corrupt. Expected a complete ${ACCEPTED_TEXT} file; re-export it.`, { cause: err });
}
