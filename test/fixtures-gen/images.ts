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

/** One marker of a JPEG: its code (the byte after 0xFF), where it starts, and where its segment ends. */
export interface JpegSegment {
  code: number;
  start: number;
  /** End of the marker's segment; for a start-of-scan (SOS), the end of the scan's entropy-coded data. */
  end: number;
}

/**
 * The markers of a well-formed JPEG, in file order, up to and including its end marker (EOI).
 * Entropy-coded data is skipped the way a decoder finds its end: at the first 0xFF that is followed by
 * neither a stuffed 0x00 nor a restart marker (RST0..RST7).
 */
export function jpegSegments(jpeg: Uint8Array): JpegSegment[] {
  const out: JpegSegment[] = [{ code: 0xd8, start: 0, end: 2 }];
  let pos = 2;
  while (pos + 1 < jpeg.length) {
    if (jpeg[pos] !== 0xff) throw new Error(`fixture: no marker at byte ${pos}`);
    const code = jpeg[pos + 1];
    if (code === 0xd9) {
      out.push({ code, start: pos, end: pos + 2 });
      return out;
    }
    let end = pos + 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
    if (code === 0xda) {
      while (!(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && (jpeg[end + 1] < 0xd0 || jpeg[end + 1] > 0xd7))) end++;
    }
    out.push({ code, start: pos, end });
    pos = end;
  }
  throw new Error('fixture: no end marker (EOI)');
}

/** Offsets of the restart markers (RST0..RST7) in a JPEG's entropy-coded data. */
export function restartMarkers(jpeg: Uint8Array): number[] {
  const at: number[] = [];
  for (const s of jpegSegments(jpeg).filter((x) => x.code === 0xda)) {
    for (let i = s.start + 2; i < s.end - 1; i++) if (jpeg[i] === 0xff && jpeg[i + 1] >= 0xd0 && jpeg[i + 1] <= 0xd7) at.push(i);
  }
  return at;
}

/** The first `length` bytes of `jpeg`, closed with an end marker (EOI): a truncated file made to look whole. */
export function cutAndClose(jpeg: Uint8Array, length: number): Buffer {
  return Buffer.concat([jpeg.subarray(0, length), Buffer.from([0xff, 0xd9])]);
}

/** `jpeg` with `junk` inserted just before the `nth` (0-based) marker with this code, e.g. a later scan's SOS. */
export function withBytesBefore(jpeg: Uint8Array, code: number, junk: Uint8Array, nth = 0): Buffer {
  const at = jpegSegments(jpeg).filter((s) => s.code === code)[nth];
  if (!at) throw new Error(`fixture: no marker 0xff${code.toString(16)} number ${nth}`);
  return Buffer.concat([jpeg.subarray(0, at.start), junk, jpeg.subarray(at.start)]);
}

/**
 * A sequential JPEG whose scan has been given the parameters of a progressive one (Se = 0), as some
 * Samsung phones write them: libjpeg warns "Invalid SOS parameters for sequential JPEG" and decodes
 * every pixel.
 */
export function withInvalidSosParameters(jpeg: Uint8Array): Buffer {
  const out = Buffer.from(jpeg);
  const sos = jpegSegments(out).find((s) => s.code === 0xda)!;
  const headerEnd = sos.start + 2 + ((out[sos.start + 2] << 8) | out[sos.start + 3]);
  out[headerEnd - 2] = 0; // Se; the header ends with Ss, Se, Ah/Al
  return out;
}

/** Zig-zag order: the raster index (8 * row + column) of each coefficient, in the order a JPEG stores them. */
const ZIGZAG: number[] = (() => {
  const order: number[] = [];
  for (let sum = 0; sum < 15; sum++) {
    const diagonal: number[] = [];
    for (let y = 0; y < 8; y++) if (sum - y >= 0 && sum - y < 8) diagonal.push(8 * y + sum - y);
    order.push(...(sum % 2 === 0 ? diagonal.reverse() : diagonal));
  }
  return order;
})();

/** Options of {@link encodeBaselineJpeg}. */
export interface BaselineJpegOptions {
  /** MCUs per restart interval (0: no restart markers). */
  restartInterval?: number;
  /** Chroma subsampling: '4:2:0' (16x16 MCUs of six blocks) or '4:4:4' (8x8 MCUs of three blocks). */
  subsampling?: '4:2:0' | '4:4:4';
}

/**
 * A baseline JPEG of raw RGB pixels, written here because no encoder sharp offers writes restart
 * markers (DRI/RSTn), which many cameras do. A plain encoder: uniform quantisation (8), and Huffman
 * codes of one length per table (4 bits for DC categories, 8 bits for AC run/size symbols), which
 * is valid if not compact.
 */
export function encodeBaselineJpeg(rgb: Uint8Array, width: number, height: number, opts: BaselineJpegOptions = {}): Buffer {
  const restartInterval = opts.restartInterval ?? 0;
  const lumaSampling = opts.subsampling === '4:4:4' ? 1 : 2;
  const mcuPx = 8 * lumaSampling;
  const mcusX = Math.ceil(width / mcuPx), mcusY = Math.ceil(height / mcuPx);
  // Y, Cb, Cr planes, padded to whole MCUs by repeating the last column and row.
  const planeW = mcusX * mcuPx, planeH = mcusY * mcuPx;
  const planes = [new Float64Array(planeW * planeH), new Float64Array(planeW * planeH), new Float64Array(planeW * planeH)];
  for (let y = 0; y < planeH; y++) {
    for (let x = 0; x < planeW; x++) {
      const o = 3 * (Math.min(y, height - 1) * width + Math.min(x, width - 1));
      const [r, g, b] = [rgb[o], rgb[o + 1], rgb[o + 2]];
      const i = y * planeW + x;
      planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b;
      planes[1][i] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
      planes[2][i] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
    }
  }
  const cos = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i >> 3) + 1) * (i & 7) * Math.PI) / 16)); // [x][u]
  /** Quantised zig-zag coefficients of the 8x8 block at (bx, by) in `plane`, averaging `step` x `step` pixels per sample. */
  const block = (plane: Float64Array, bx: number, by: number, step: number): number[] => {
    const f = new Float64Array(64);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        let sum = 0;
        for (let dy = 0; dy < step; dy++) for (let dx = 0; dx < step; dx++) sum += plane[(by + y * step + dy) * planeW + bx + x * step + dx];
        f[8 * y + x] = sum / (step * step) - 128;
      }
    }
    const coef = new Array<number>(64);
    for (let v = 0; v < 8; v++) {
      for (let u = 0; u < 8; u++) {
        let s = 0;
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += f[8 * y + x] * cos[8 * x + u] * cos[8 * y + v];
        coef[8 * v + u] = (s * (u === 0 ? Math.SQRT1_2 : 1) * (v === 0 ? Math.SQRT1_2 : 1)) / 4;
      }
    }
    return ZIGZAG.map((i) => Math.round(coef[i] / 8));
  };
  const acSymbols = [0x00, 0xf0, ...Array.from({ length: 160 }, (_, i) => ((i / 10) | 0) * 16 + (i % 10) + 1)];
  const acCode = new Map(acSymbols.map((sym, i) => [sym, i]));
  const bytes: number[] = [];
  let acc = 0, nbits = 0;
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++nbits === 8) {
        bytes.push(acc);
        if (acc === 0xff) bytes.push(0);
        acc = 0;
        nbits = 0;
      }
    }
  };
  const flush = () => { if (nbits > 0) put(0xff, 8 - nbits); };
  const category = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(Math.abs(v)));
  const bitsOf = (v: number, size: number) => (v < 0 ? v + (1 << size) - 1 : v);
  const pred = [0, 0, 0];
  const encodeBlock = (zz: number[], c: number) => {
    const diff = zz[0] - pred[c];
    pred[c] = zz[0];
    put(category(diff), 4);
    put(bitsOf(diff, category(diff)), category(diff));
    let run = 0;
    for (let k = 1; k < 64; k++) {
      if (zz[k] === 0) { run++; continue; }
      for (; run > 15; run -= 16) put(acCode.get(0xf0)!, 8);
      const size = category(zz[k]);
      put(acCode.get(run * 16 + size)!, 8);
      put(bitsOf(zz[k], size), size);
      run = 0;
    }
    if (run > 0) put(acCode.get(0x00)!, 8);
  };
  const mcus = mcusX * mcusY;
  for (let m = 0; m < mcus; m++) {
    if (restartInterval > 0 && m > 0 && m % restartInterval === 0) {
      flush();
      bytes.push(0xff, 0xd0 + ((m / restartInterval - 1) & 7));
      pred.fill(0);
    }
    const mx = (m % mcusX) * mcuPx, my = ((m / mcusX) | 0) * mcuPx;
    for (let v = 0; v < lumaSampling; v++) for (let h = 0; h < lumaSampling; h++) encodeBlock(block(planes[0], mx + 8 * h, my + 8 * v, 1), 0);
    encodeBlock(block(planes[1], mx, my, lumaSampling), 1);
    encodeBlock(block(planes[2], mx, my, lumaSampling), 2);
  }
  flush();
  const segment = (code: number, body: number[]) => [0xff, code, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const dht = (tableClass: number, length: number, symbols: number[]) => {
    const counts = new Array<number>(16).fill(0);
    counts[length - 1] = symbols.length;
    return [tableClass << 4, ...counts, ...symbols];
  };
  const sampling = (lumaSampling << 4) | lumaSampling;
  return Buffer.from([
    0xff, 0xd8,
    ...segment(0xdb, [0, ...new Array<number>(64).fill(8)]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, sampling, 0, 2, 0x11, 0, 3, 0x11, 0]),
    ...segment(0xc4, [...dht(0, 4, Array.from({ length: 12 }, (_, i) => i)), ...dht(1, 8, acSymbols)]),
    ...(restartInterval > 0 ? segment(0xdd, [restartInterval >> 8, restartInterval & 0xff]) : []),
    ...segment(0xda, [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]),
    ...bytes,
    0xff, 0xd9,
  ]);
}

/** One file of {@link decodeMix}. */
export interface DecodeMixFile {
  name: string;
  bytes: Buffer;
  /** A JPEG cut short (closed with an end marker or not): its image data is incomplete. */
  truncated: boolean;
  /** What decoding it alone gives, by the decoder's design. */
  expected: 'accepted' | 'refused';
}

/**
 * Files that tell a decoder's refusal of missing data apart from its tolerance of harmless faults,
 * made from one photo: whole JPEGs (baseline and progressive), JPEGs whose decoder only warns
 * (extraneous bytes before a marker, Samsung's scan parameters, no end marker, bytes after it), JPEGs
 * cut at `cuts` (fractions of the file) and closed with an end marker, one cut without it, and
 * non-JPEG failures (text, a truncated PNG). `tag` prefixes every name.
 */
export async function decodeMix(photo: Uint8Array, tag: string, widthPx = 640, cuts: readonly number[] = [0.35, 0.6, 0.85]): Promise<DecodeMixFile[]> {
  const resized = sharp(photo).resize(widthPx);
  const baseline = await resized.clone().jpeg({ quality: 90 }).toBuffer();
  const progressive = await resized.clone().jpeg({ quality: 90, progressive: true }).toBuffer();
  const png = await resized.clone().png().toBuffer();
  const file = (name: string, bytes: Buffer, expected: DecodeMixFile['expected'], truncated = false): DecodeMixFile => ({ name: `${tag}-${name}`, bytes, expected, truncated });
  return [
    file('valid.jpg', baseline, 'accepted'),
    file('progressive.jpg', progressive, 'accepted'),
    file('junk-before-sos.jpg', withBytesBefore(baseline, 0xda, Buffer.from([1, 2, 3, 4])), 'accepted'),
    file('junk-between-scans.jpg', withBytesBefore(progressive, 0xda, Buffer.from([0, 7, 7]), 2), 'accepted'),
    file('samsung-sos.jpg', withInvalidSosParameters(baseline), 'accepted'),
    file('no-eoi.jpg', baseline.subarray(0, baseline.length - 2), 'accepted'),
    file('bytes-after-eoi.jpg', Buffer.concat([baseline, Buffer.from('\0\0 trailing bytes after the end marker')]), 'accepted'),
    ...cuts.map((f) => file(`cut${Math.round(100 * f)}-closed.jpg`, cutAndClose(baseline, Math.floor(baseline.length * f)), 'refused', true)),
    file(`progressive-cut${Math.round(100 * cuts[1])}-closed.jpg`, cutAndClose(progressive, Math.floor(progressive.length * cuts[1])), 'refused', true),
    file(`cut${Math.round(100 * cuts[2])}.jpg`, baseline.subarray(0, Math.floor(baseline.length * cuts[2])), 'refused', true),
    file('text.jpg', Buffer.from(`${tag}: not an image\n`), 'refused'),
    file('truncated.png', png.subarray(0, Math.floor(png.length * cuts[1])), 'refused'),
  ];
}
