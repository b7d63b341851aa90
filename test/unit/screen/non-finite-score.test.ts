/**
 * A bundle whose numbers overflow on a face scores NaN, which is below every threshold: screening
 * must report such a photo as the model's fault (E_MODEL), never count it as the negative class.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveBundle, type ModelBundle } from '../../../src/classify/bundle.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { screenEmbeddings } from '../../../src/workflows/screen/embeddings.ts';
import { Screener } from '../../../src/workflows/screen/screener.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

/** The toy bundle, re-saved (with a matching id and checksum) with a standardiser scale so small that every standardised value is infinite. */
async function overflowingBundle(): Promise<string> {
  const dir = await toyBundle();
  const { id: _id, checksum: _checksum, contract: _contract, format: _format, formatVersion: _version, ...rest } = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as ModelBundle;
  const params = rest.classifier.params as { standardiser: { scale: number[] } };
  params.standardiser.scale = params.standardiser.scale.map(() => 1e-320);
  await saveBundle(dir, rest);
  return dir;
}

/** A unit vector of `dim` values of both signs. */
const mixed = (dim: number, seed: number) => {
  const v = Array.from({ length: dim }, (_, k) => Math.sin(seed + 1.7 * k));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('screening with a bundle whose score overflows', () => {
  it('gives each embedding record an E_MODEL error and the person no label, not "control"', async () => {
    const dir = await overflowingBundle();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'nan-score-')), 'person.jsonl');
    writeFileSync(file, [1, 2].map((i) => JSON.stringify({ path: `p${i}.jpg`, backbone: 'mobilefacenet', embedding: mixed(192, i) })).join('\n') + '\n');
    const result = await screenEmbeddings(dir, file);
    expect(result.photos.map((p) => p.error?.code)).toEqual(['E_MODEL', 'E_MODEL']);
    expect(result.photos[0].error!.message).toContain('not a probability from 0 to 1');
    expect(result.subject.label).toBeNull();
    expect(result.subject.probability).toBeNull();
  });

  const ready = existsSync(modelPath('mobilefacenet'));
  it.skipIf(!ready)('gives a photo an E_MODEL error and the person no label, not "control"', async () => {
    const pkg = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
    const screener = await Screener.load(await overflowingBundle());
    try {
      const result = await screener.screen([{ name: 'sample1.jpg', path: path.join(pkg, 'demo', 'sample1.jpg') }]);
      expect(result.photos[0].error?.code).toBe('E_MODEL');
      expect(result.subject.label).toBeNull();
    } finally {
      await screener.close();
    }
  });
});
