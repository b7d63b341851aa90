/**
 * Image fixtures made on the fly with sharp (never committed): a small four-colour "photo" in every
 * format and pixel layout decoders meet, and the broken and hostile files they must refuse.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** Quadrant colours of {@link quadrants}: top-left, top-right, bottom-left, bottom-right. */
export const QUADRANT_COLOURS = {
  topLeft: [220, 30, 30],
  topRight: [30, 200, 40],
  bottomLeft: [30, 40, 210],
  bottomRight: [240, 240, 240],
} as const;

/** Raw RGB of a `width` x `height` image in four flat quadrants (orientation is visible in it). */
export function quadrants(width = 96, height = 64): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const key = y < height / 2 ? (x < width / 2 ? 'topLeft' : 'topRight') : x < width / 2 ? 'bottomLeft' : 'bottomRight';
      data.set(QUADRANT_COLOURS[key], 3 * (y * width + x));
    }
  }
  return { width, height, data };
}

function quadrantSharp(width = 96, height = 64): Sharp {
  const q = quadrants(width, height);
  return sharp(q.data, { raw: { width, height, channels: 3 } });
}

/** CRC-32 as PNG chunks use it. */
export function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/**
 * A decompression bomb: a valid PNG signature and header claiming `side` x `side` RGB pixels, with
 * the first few rows of (zero) data. A few hundred bytes that would cost `3 * side^2` bytes decoded.
 */
export function pngBomb(side = 30000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter, no interlace
  const rows = deflateSync(Buffer.alloc(4 * (1 + 3 * side)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A small JPEG whose frame header (SOF0) is patched to claim `side` x `side` pixels. */
export async function jpegBomb(side = 30000): Promise<Buffer> {
  const jpg = Buffer.from(await quadrantSharp(16, 16).jpeg({ mozjpeg: false }).toBuffer());
  const sof = jpg.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('fixture: no SOF0 marker in the generated JPEG');
  jpg.writeUInt16BE(side, sof + 5); // height
  jpg.writeUInt16BE(side, sof + 7); // width
  return jpg;
}

/** `jpeg` with `junk` inserted just before its first `0xFF marker` (a warning for libjpeg). */
function insertBeforeMarker(jpeg: Buffer, marker: number, junk: Buffer): Buffer {
  const at = jpeg.indexOf(Buffer.from([0xff, marker]));
  if (at < 0) throw new Error(`fixture: no 0xff${marker.toString(16)} marker in the generated JPEG`);
  return Buffer.concat([jpeg.subarray(0, at), junk, jpeg.subarray(at)]);
}

/** Every small fixture, by file name (the extension is sometimes a lie on purpose). */
export async function smallFixtures(): Promise<Record<string, Buffer>> {
  const base = () => quadrantSharp();
  const jpeg = await base().jpeg({ quality: 95 }).toBuffer();
  const png = await base().png().toBuffer();
  const frames = await Promise.all(
    ([[255, 0, 0], [0, 255, 0], [0, 0, 255]] as const).map(([r, g, b]) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g, b } } }).png().toBuffer()),
  );
  // left half transparent (black under it), right half opaque blue
  const rgba = Buffer.alloc(40 * 30 * 4);
  for (let i = 0; i < 40 * 30; i++) if (i % 40 >= 20) rgba.set([0, 0, 255, 255], 4 * i);
  return {
    'photo.jpg': jpeg,
    'photo.png': png,
    'zero.jpg': Buffer.alloc(0),
    'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
    'truncated.png': png.subarray(0, Math.floor(png.length * 0.6)),
    'no-eoi.jpg': jpeg.subarray(0, jpeg.length - 2), // every byte of image data, no end marker
    'cut-3.jpg': jpeg.subarray(0, jpeg.length - 3), // one byte of image data missing
    // truncated, then closed with an end marker: libjpeg warns "premature end of data segment"
    'truncated-closed.jpg': Buffer.concat([jpeg.subarray(0, jpeg.length - 40), Buffer.from([0xff, 0xd9])]),
    // libjpeg warns "extraneous bytes before marker 0xda" but loses no pixel
    'junk-before-sos.jpg': insertBeforeMarker(jpeg, 0xda, Buffer.from([1, 2, 3, 4])),
    'text.jpg': Buffer.from('this is not an image, just some text\n'),
    'document.pdf': Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'),
    'random.jpg': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)),
    'drawing.svg': Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>'),
    'png-named.jpg': png,
    'cmyk.jpg': await base().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
    'sixteen.png': await base().toColourspace('rgb16').png().toBuffer(),
    'rgba.png': await sharp(rgba, { raw: { width: 40, height: 30, channels: 4 } }).png().toBuffer(),
    'grey.png': await base().toColourspace('b-w').png().toBuffer(),
    'palette.png': await base().png({ palette: true }).toBuffer(),
    // stored turned a quarter left, with EXIF orientation 6 ("rotate 90 clockwise to display")
    'exif6.jpg': await base().rotate(-90).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer(),
    'still.gif': await base().gif().toBuffer(),
    'animated.gif': await sharp(frames, { join: { animated: true } }).gif().toBuffer(),
    'photo.webp': await base().webp({ lossless: true }).toBuffer(),
    'photo.avif': await base().avif({ quality: 90, effort: 0 }).toBuffer(),
    'photo.tiff': await base().tiff({ compression: 'lzw' }).toBuffer(),
    'one.png': await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer(),
    'thin.png': await sharp({ create: { width: 200, height: 8, channels: 3, background: '#808080' } }).png().toBuffer(),
    'bomb.png': pngBomb(30000),
    'bomb.jpg': await jpegBomb(30000),
  };
}

/** Write fixtures into a fresh temporary folder; returns the folder and each file's path. */
export function writeFixtures(files: Record<string, Buffer>, prefix = 'phenoface-image-'): { dir: string; paths: Record<string, string> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const paths: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(files)) {
    paths[name] = path.join(dir, name);
    writeFileSync(paths[name], bytes);
  }
  return { dir, paths };
}
