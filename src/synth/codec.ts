/**
 * Private image helpers for synth: JPEG encode, square crops and a contact sheet. (The shared
 * image layer, src/image, had no encoder or contact sheet when synth was written; these are small
 * and should give way to it once it has them.)
 */
import sharp, { type OverlayOptions } from 'sharp';
import type { RgbImage } from '../types.ts';

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
