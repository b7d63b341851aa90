/**
 * checkJpegData: every scan of a whole JPEG is whole (baseline, progressive, restart intervals, real
 * photos), a JPEG cut anywhere in its image data and closed with an end marker is not, and the check
 * never calls whole a file that libjpeg (through sharp, one decode at a time) warns is missing data.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkJpegData } from '../../../src/image/jpeg-data.ts';
import { cutAndClose, encodeBaselineJpeg, jpegSegments, restartMarkers, withBytesBefore, withInvalidSosParameters } from '../../fixtures-gen/images.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

/** Whole JPEGs of one photo, by kind. */
let jpegs: Record<string, Buffer>;

beforeAll(async () => {
  const photo = sharp(readFileSync(path.join(demo, 'sample2.jpg'))).resize(331, 221);
  const { data, info } = await photo.clone().raw().toBuffer({ resolveWithObject: true });
  jpegs = {
    'baseline 4:2:0': await photo.clone().jpeg({ quality: 90 }).toBuffer(),
    'baseline 4:4:4': await photo.clone().jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer(),
    progressive: await photo.clone().jpeg({ quality: 90, progressive: true }).toBuffer(),
    'progressive, mozjpeg scans': await photo.clone().jpeg({ quality: 80, progressive: true, mozjpeg: true }).toBuffer(),
    'progressive greyscale': await photo.clone().greyscale().jpeg({ progressive: true }).toBuffer(),
    'restart every MCU': encodeBaselineJpeg(data, info.width, info.height, { restartInterval: 1 }),
    'restart every 5 MCUs, 4:4:4': encodeBaselineJpeg(data, info.width, info.height, { restartInterval: 5, subsampling: '4:4:4' }),
    'restart every 64 MCUs': encodeBaselineJpeg(data, info.width, info.height, { restartInterval: 64 }),
  };
});

/** True when sharp decodes `jpeg` without any warning. */
async function libjpegWhole(jpeg: Buffer): Promise<boolean> {
  try {
    await sharp(jpeg, { failOn: 'warning' }).raw().toBuffer();
    return true;
  } catch {
    return false;
  }
}

describe('checkJpegData on whole JPEGs', () => {
  it('finds every scan whole in baseline, progressive and restart-interval JPEGs', async () => {
    for (const [name, jpeg] of Object.entries(jpegs)) {
      expect(await libjpegWhole(jpeg), name).toBe(true);
      const report = checkJpegData(jpeg);
      expect(report, name).toEqual({ hasEndMarker: true, scans: report.scans });
      const sos = jpegSegments(jpeg).filter((s) => s.code === 0xda).length;
      expect(report.scans, name).toBe(sos);
      if (name.startsWith('progressive')) expect(report.scans, name).toBeGreaterThan(2);
    }
    expect(restartMarkers(jpegs['restart every MCU']).length).toBe(21 * 14 - 1);
  });

  it('finds the real photos whole (1920-px camera JPEGs with EXIF)', () => {
    for (const i of [1, 2, 3, 4, 5, 6]) expect(checkJpegData(readFileSync(path.join(demo, `sample${i}.jpg`))), `sample${i}`).toEqual({ hasEndMarker: true, scans: 1 });
  });

  it('finds the data whole where libjpeg only warns about something else, and tells a missing end marker', () => {
    const base = jpegs['baseline 4:2:0'];
    const rst = jpegs['restart every 5 MCUs, 4:4:4'];
    const rstAt = restartMarkers(rst)[10];
    const harmless = {
      'bytes before SOS': withBytesBefore(base, 0xda, Buffer.from([1, 2, 3, 4])),
      'bytes between progressive scans': withBytesBefore(jpegs.progressive, 0xda, Buffer.from([0, 7, 7]), 3),
      'bytes before a restart marker': Buffer.concat([rst.subarray(0, rstAt), Buffer.from([0x12, 0x34]), rst.subarray(rstAt)]),
      "Samsung's scan parameters": withInvalidSosParameters(base),
      'bytes after the end marker': Buffer.concat([base, Buffer.from('trailing')]),
    };
    const scansOf = (jpeg: Buffer) => jpegSegments(jpeg).filter((s) => s.code === 0xda).length;
    for (const [name, jpeg] of Object.entries(harmless)) {
      expect(checkJpegData(jpeg), name).toEqual({ hasEndMarker: true, scans: scansOf(name.includes('progressive') ? jpegs.progressive : base) });
    }
    expect(checkJpegData(base.subarray(0, base.length - 2))).toEqual({ hasEndMarker: false, scans: 1 });
    expect(checkJpegData(base.subarray(0, base.length - 1))).toEqual({ hasEndMarker: false, scans: 1 });
  });
});

describe('checkJpegData on cut JPEGs', () => {
  it('finds a JPEG cut anywhere in its image data and closed with an end marker incomplete, naming the scan and the place', () => {
    for (const [name, jpeg] of Object.entries(jpegs)) {
      const scans = jpegSegments(jpeg).filter((s) => s.code === 0xda);
      for (const [scan, fraction] of [0, 0.5, 1].flatMap((s) => [0.1, 0.5, 0.9].map((f) => [scans[Math.min(scans.length - 1, Math.floor(s * scans.length))], f] as const))) {
        const headerEnd = scan.start + 2 + ((jpeg[scan.start + 2] << 8) | jpeg[scan.start + 3]);
        const at = headerEnd + Math.max(1, Math.floor((scan.end - headerEnd) * fraction));
        const report = checkJpegData(cutAndClose(jpeg, at));
        expect(report.fault?.kind, `${name} cut at ${at}`).toBe('missing');
        expect(report.fault?.detail, `${name} cut at ${at}`).toMatch(/^scan \d+ stops after \d+ of \d+ MCUs \(a 0xFFD9 marker at byte \d+ (interrupts it|where restart marker 0xFFD[0-7] belongs)\)$/);
      }
    }
  });

  it('never finds whole what libjpeg warns is missing data, at every 1/120 of each file', async () => {
    let refusedByLibjpeg = 0;
    for (const [name, jpeg] of Object.entries(jpegs)) {
      const first = jpegSegments(jpeg).find((s) => s.code === 0xda)!.start;
      const step = Math.max(1, Math.floor((jpeg.length - first) / 120));
      for (let at = first; at < jpeg.length - 2; at += step) {
        const cut = cutAndClose(jpeg, at);
        const whole = !checkJpegData(cut).fault;
        const libjpeg = await libjpegWhole(cut);
        if (!libjpeg) refusedByLibjpeg++;
        // One way only: libvips misses libjpeg's warning for a cut in a 4:4:4 JPEG's last MCU row
        // (its grey rows come out without an error), which the check does find.
        if (!libjpeg) expect(whole, `${name} cut at ${at}: libjpeg warns, the check finds it whole`).toBe(false);
        if (whole) expect(libjpeg, `${name} cut at ${at}: the check finds it whole, libjpeg warns`).toBe(true);
      }
    }
    expect(refusedByLibjpeg).toBeGreaterThan(800);
  });

  it('finds a cut in the last MCU row of a 4:4:4 JPEG (sharp 0.35 gives its grey rows without a warning)', async () => {
    const jpeg = jpegs['baseline 4:4:4'];
    const cut = cutAndClose(jpeg, jpeg.length - 200);
    const [whole, grey] = await Promise.all([sharp(jpeg).raw().toBuffer(), sharp(cut).raw().toBuffer()]);
    expect(grey.equals(whole)).toBe(false);
    expect(checkJpegData(cut).fault).toMatchObject({ kind: 'missing', detail: expect.stringMatching(/^scan 1 stops after \d+ of 1176 MCUs/) });
  });

  it('finds a cut at a restart boundary closed with an end marker, and misnumbered restart markers', () => {
    const jpeg = jpegs['restart every 5 MCUs, 4:4:4'];
    const markers = restartMarkers(jpeg);
    const k = Math.floor(markers.length / 2);
    const atBoundary = checkJpegData(cutAndClose(jpeg, markers[k]));
    expect(atBoundary.fault).toEqual({
      kind: 'missing',
      detail: `scan 1 stops after ${5 * (k + 1)} of ${42 * 28} MCUs (a 0xFFD9 marker at byte ${markers[k]} where restart marker 0xFFD${k % 8} belongs)`,
      offset: markers[k],
    });
    const misnumbered = Buffer.from(jpeg);
    misnumbered[markers[k] + 1] = 0xd0 + ((k + 3) % 8);
    expect(checkJpegData(misnumbered).fault).toMatchObject({ kind: 'corrupt', detail: expect.stringMatching(/0xFFD. marker .* where restart marker 0xFFD. belongs/) });
  });

  it('tells a file cut without an end marker, inside a header, or before any image data', () => {
    const base = jpegs['baseline 4:2:0'];
    expect(checkJpegData(base.subarray(0, base.length - 3)).fault).toMatchObject({ kind: 'missing', detail: expect.stringMatching(/^scan 1 stops after \d+ of 294 MCUs \(the file ends\)$/) });
    const sos = jpegSegments(base).find((s) => s.code === 0xda)!;
    expect(checkJpegData(base.subarray(0, sos.start + 6)).fault?.detail).toMatch(/^the file ends inside the 0xFFDA segment/);
    expect(checkJpegData(cutAndClose(base, sos.start)).fault?.detail).toMatch(/^it holds no image data/);
    expect(checkJpegData(base.subarray(0, sos.start)).fault?.detail).toBe('the file ends before its image data');
  });
});

describe('checkJpegData on corrupt and unsupported JPEGs', () => {
  it('finds a bad Huffman code corrupt', async () => {
    const jpeg = Buffer.from(jpegs['restart every 64 MCUs']);
    const sos = jpegSegments(jpeg).find((s) => s.code === 0xda)!;
    const dataStart = sos.start + 2 + ((jpeg[sos.start + 2] << 8) | jpeg[sos.start + 3]);
    // the DC table's codes are 4 bits for 0..11: 1111 is no code of any length
    jpeg.fill(0xfe, dataStart, dataStart + 40);
    expect(await libjpegWhole(jpeg)).toBe(false);
    expect(checkJpegData(jpeg).fault).toMatchObject({ kind: 'corrupt', detail: expect.stringMatching(/^scan 1 stops after 0 of \d+ MCUs \(a bad Huffman code before byte \d+\)$/) });
  });

  it('says which JPEG processes it cannot read (arithmetic coding), rather than guessing', () => {
    const jpeg = Buffer.from(jpegs['baseline 4:2:0']);
    const sof = jpegSegments(jpeg).find((s) => s.code === 0xc0)!;
    jpeg[sof.start + 1] = 0xc9;
    expect(checkJpegData(jpeg).fault).toMatchObject({ kind: 'unsupported', detail: expect.stringMatching(/arithmetic coding/) });
    expect(checkJpegData(Buffer.from('not a jpeg')).fault?.kind).toBe('corrupt');
  });
});

describe('checkJpegData on JPEGs without Huffman tables (Motion-JPEG frames)', () => {
  it('reads their scans with the standard tables, as libjpeg does', async () => {
    // mozjpeg writes the standard tables when it does not optimise them; without its DHT segments the
    // file decodes to the same pixels, so a wrong standard table here would misread the data.
    const jpeg = await sharp(readFileSync(path.join(demo, 'sample3.jpg'))).resize(400).jpeg({ optimiseCoding: false }).toBuffer();
    const noTables = Buffer.concat(jpegSegments(jpeg).filter((s) => s.code !== 0xc4).map((s) => jpeg.subarray(s.start, s.end)));
    expect(noTables.length).toBeLessThan(jpeg.length - 400);
    expect(await sharp(noTables, { failOn: 'warning' }).raw().toBuffer()).toEqual(await sharp(jpeg).raw().toBuffer());
    expect(checkJpegData(noTables)).toEqual({ hasEndMarker: true, scans: 1 });
    expect(checkJpegData(cutAndClose(noTables, noTables.length - 300)).fault?.kind).toBe('missing');
  });
});
