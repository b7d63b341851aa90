/**
 * `screen --embeddings` words a record's quality flags as screening the photo would, quoting the
 * face's size and the detector's score from the record. A record comes from a file anyone can
 * edit or another site's tool: a measure that contradicts its flag, or that no detector gives,
 * is not quoted back as if it had been measured.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { screenEmbeddings } from '../../../src/workflows/screen/embeddings.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

/** A unit vector of `dim` values of both signs. */
const mixed = (dim: number, seed: number) => {
  const v = Array.from({ length: dim }, (_, k) => Math.sin(seed + 1.7 * k));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/** An `embed`-style record whose face box is `side` px square, scored `score`, with `quality` flags. */
const record = (i: number, quality: string[], side: number, score = 0.99) => JSON.stringify({
  path: `p${i}.jpg`, backbone: 'mobilefacenet', quality, embedding: mixed(192, i),
  face: { box: { x: 10, y: 10, width: side, height: side }, score, landmarks5: [[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]] },
});

describe('screen --embeddings quality warnings', () => {
  it("quotes a small face's size and an unsure detector's score only where they agree with the flag", async () => {
    const dir = await toyBundle();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-warnings-')), 'person.jsonl');
    writeFileSync(file, [
      record(0, ['small'], 30),
      record(1, ['small'], 1e300), // "face is small (1e+300 px)"
      record(2, ['small'], 5000), // a face 5000 px across is not small
      record(3, ['small'], 0.2), // "face is small (0 px)"
      record(4, ['low-confidence'], 200, 0.42),
      record(5, ['low-confidence'], 200, 0.999), // "detector is unsure this is a face (score 1.00)"
    ].join('\n') + '\n');
    const result = await screenEmbeddings(dir, file);
    expect(result.photos.map((p) => p.warnings)).toEqual([
      ['face is small (30 px): details are lost; use a closer photo'],
      ['face is small: details are lost; use a closer photo'],
      ['face is small: details are lost; use a closer photo'],
      ['face is small: details are lost; use a closer photo'],
      ['detector is unsure this is a face (score 0.42)'],
      ['detector is unsure this is a face'],
    ]);
  });
});
