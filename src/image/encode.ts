/**
 * Encoding in-memory images (aligned faces, heat-map overlays, previews) to PNG and JPEG with sharp,
 * and laying several out as a contact sheet for reports and previews.
 */
import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';

/** An RGBA image in memory: interleaved 8-bit RGBA, row-major, `width * height * 4` bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** The channel count of an interleaved image, from its byte length (3 = RGB, 4 = RGBA). */
function channelsOf(img: RgbImage | RgbaImage): 3 | 4 {
  const n = img.width * img.height;
  if (Number.isInteger(img.width) && Number.isInteger(img.height) && n > 0) {
    if (img.data.length === n * 3) return 3;
    if (img.data.length === n * 4) return 4;
  }
  throw new PhenofaceError('E_INPUT', `Invalid image: ${img.data.length} bytes for ${img.width}x${img.height}. Expected width*height*3 (RGB) or *4 (RGBA) bytes with positive integer sides.`);
}

function toSharp(img: RgbImage | RgbaImage): Sharp {
  const channels = channelsOf(img);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels } });
}

/** Encode an RGB or RGBA image (channels told apart by the byte length) as PNG. */
export async function encodePng(img: RgbImage | RgbaImage): Promise<Buffer> {
  return toSharp(img).png().toBuffer();
}

/**
 * Encode an image as JPEG at `quality` (1-100, libjpeg scale). An alpha channel is flattened on
 * white, as {@link decodeImage} does. `chromaSubsampling` '4:4:4' keeps colour at full
 * resolution: with the default 4:2:0, JPEG codes colour in 16x16 blocks and the decoder's
 * upsampling blends their edges, so a local change leaks past its 8x8 blocks.
 */
export async function encodeJpeg(img: RgbImage | RgbaImage, quality = 90, chromaSubsampling: '4:2:0' | '4:4:4' = '4:2:0'): Promise<Buffer> {
  if (!(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new PhenofaceError('E_INPUT', `Invalid JPEG quality: ${quality}. Expected an integer from 1 to 100.`);
  }
  return toSharp(img).flatten({ background: { r: 255, g: 255, b: 255 } }).jpeg({ quality, chromaSubsampling }).toBuffer();
}

/** Height of a contact sheet's label strip, for a cell of `cellPx`. */
function labelStripPx(cellPx: number): number {
  return Math.max(14, Math.round(cellPx * 0.14));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * Lay images out in a grid of `columns` columns: each is scaled to fit a `cellPx` x `cellPx` cell
 * (aspect kept, centred on dark grey), row-major in the order given. With `labels` (one per image),
 * each cell gets a strip below it with its label in a sans-serif font (SVG text rendered by librsvg;
 * where no font is installed the strip stays blank). Returns the sheet as an RGB image.
 */
export async function contactSheet(images: RgbImage[], columns: number, cellPx: number, labels?: string[]): Promise<RgbImage> {
  if (images.length === 0) throw new PhenofaceError('E_INPUT', 'contactSheet: no images. Expected at least one.');
  if (!(Number.isInteger(columns) && columns >= 1)) throw new PhenofaceError('E_INPUT', `contactSheet: invalid columns ${columns}. Expected a positive integer.`);
  if (!(Number.isInteger(cellPx) && cellPx >= 8)) throw new PhenofaceError('E_INPUT', `contactSheet: invalid cellPx ${cellPx}. Expected an integer >= 8.`);
  if (labels !== undefined && labels.length !== images.length) {
    throw new PhenofaceError('E_INPUT', `contactSheet: ${labels.length} labels for ${images.length} images. Expected one label per image.`);
  }
  const strip = labels ? labelStripPx(cellPx) : 0;
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / columns);
  const cellH = cellPx + strip;
  const background = { r: 32, g: 32, b: 32 };
  const layers: OverlayOptions[] = [];
  for (let i = 0; i < images.length; i++) {
    const left = (i % columns) * cellPx;
    const top = Math.floor(i / columns) * cellH;
    const cell = await toSharp(images[i]).resize(cellPx, cellPx, { fit: 'contain', background }).png().toBuffer();
    layers.push({ input: cell, left, top });
    if (labels) {
      const font = Math.round(strip * 0.7);
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${cellPx}" height="${strip}">` +
        `<text x="${cellPx / 2}" y="${Math.round(strip * 0.78)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#ffffff" text-anchor="middle">${escapeXml(labels[i])}</text></svg>`;
      layers.push({ input: Buffer.from(svg), left, top: top + cellPx });
    }
  }
  const { data, info } = await sharp({ create: { width: cols * cellPx, height: rows * cellH, channels: 3, background } })
    .composite(layers)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
