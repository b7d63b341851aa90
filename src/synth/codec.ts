/**
 * Private image helpers for synth: full-resolution decode to RGB, JPEG/PNG encode, square crops
 * and a contact sheet. (The shared image layer, src/image, was not there when synth was written;
 * these are small and should give way to it once it offers full-resolution decode.)
 *
 * Synth decodes at full resolution, never downscaled: its output photos are the input photos with
 * only the planted geometry changed.
 */
import { stat } from 'node:fs/promises';
import sharp, { type OverlayOptions } from 'sharp';
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';

/** Decodes a photo to interleaved RGB, EXIF orientation applied. E_NOT_FOUND / E_TOO_LARGE / E_DECODE. */
export async function decodeRgb(absPath: string, limits = DEFAULTS.image): Promise<RgbImage> {
  const st = await stat(absPath).catch((err) => {
    throw new PhenofaceError('E_NOT_FOUND', `Photo "${absPath}" does not exist.`, { cause: err });
  });
  if (!st.isFile()) throw new PhenofaceError('E_DECODE', `"${absPath}" is not a file.`);
  if (st.size > limits.maxBytes) throw new PhenofaceError('E_TOO_LARGE', `Photo "${absPath}" is ${st.size} bytes. Should be at most ${limits.maxBytes}.`);
  try {
    const { data, info } = await sharp(absPath, { limitInputPixels: limits.maxPixels })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    const message = (err as Error).message;
    if (/pixel limit/i.test(message)) throw new PhenofaceError('E_TOO_LARGE', `Photo "${absPath}" has more than ${limits.maxPixels} pixels.`, { cause: err });
    throw new PhenofaceError('E_DECODE', `Cannot decode "${absPath}" as an image: ${message}.`, { cause: err });
  }
}

function rawSharp(img: RgbImage) {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** JPEG bytes of `img`. Deterministic: the same pixels and quality give the same bytes. */
export async function encodeJpegRgb(img: RgbImage, quality: number): Promise<Buffer> {
  // 4:4:4 keeps colour at full resolution: at quality 95 chroma subsampling would be the largest loss.
  return rawSharp(img).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

/** A `size` x `size` crop centred on (cx, cy); outside the photo is mid-grey. */
export function cropSquare(img: RgbImage, cx: number, cy: number, size: number): RgbImage {
  const s = Math.max(1, Math.round(size));
  const x0 = Math.round(cx - s / 2);
  const y0 = Math.round(cy - s / 2);
  const out = new Uint8Array(s * s * 3).fill(128);
  for (let y = 0; y < s; y++) {
    const sy = y0 + y;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < s; x++) {
      const sx = x0 + x;
      if (sx < 0 || sx >= img.width) continue;
      const i = (sy * img.width + sx) * 3;
      out.set(img.data.subarray(i, i + 3), (y * s + x) * 3);
    }
  }
  return { width: s, height: s, data: out };
}

/** A PNG grid of equal square tiles (`rows` of `tiles`), each resized to `tilePx`, with a 4 px gutter. */
export async function contactSheetPng(rows: RgbImage[][], tilePx = 256): Promise<Buffer> {
  const gap = 4;
  const cols = Math.max(1, ...rows.map((r) => r.length));
  const width = cols * tilePx + (cols + 1) * gap;
  const height = rows.length * tilePx + (rows.length + 1) * gap;
  const composites: OverlayOptions[] = [];
  for (const [r, row] of rows.entries()) {
    for (const [c, tile] of row.entries()) {
      const input = await rawSharp(tile).resize(tilePx, tilePx, { fit: 'fill' }).png().toBuffer();
      composites.push({ input, left: gap + c * (tilePx + gap), top: gap + r * (tilePx + gap) });
    }
  }
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(composites).png().toBuffer();
}
