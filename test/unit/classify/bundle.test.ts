import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleId, loadBundle, saveBundle, weightsId, INTENDED_USE, STANDARD_LIMITATIONS, WITHHELD_TRAINING_WARNING } from '../../../src/classify/bundle.ts';
import { modelCard } from '../../../src/report/model-card.ts';
import { createClassifier } from '../../../src/classify/index.ts';
import { loadManifest } from '../../../src/runtime/index.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { rateInterval, wilsonInterval } from '../../../src/math/proportion.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

function toyData(n: number, d: number) {
  const X: Float32Array[] = [], y: number[] = [], subjects: string[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    X.push(Float32Array.from({ length: d }, (_, j) => rnd() + (j === 0 ? label : 0)));
    y.push(label);
    subjects.push(`s${i % 20}`);
  }
  return { X, y, subjects };
}

/** A bundle saved by `saveBundle` in a fresh folder, and its model.json. */
async function savedBundle(): Promise<{ dir: string; file: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  await makeBundle(dir);
  return { dir, file: path.join(dir, 'model.json') };
}

async function makeBundle(dir: string, warnings: string[] = []) {
  const manifest = loadManifest();
  const entry = manifest.models.mobilefacenet;
  const { X, y, subjects } = toyData(40, 192);
  const model = createClassifier('logistic').fit(X, y, subjects, { seed: 1, innerFolds: 3, split: groupedStratifiedKFold });
  const bundle = await saveBundle(dir, {
    createdAt: '2026-01-01T00:00:00Z', phenofaceVersion: '0.0.0', positive: 'vcfs', negative: 'control',
    classifier: model.toJSON(), thresholds: { photo: 0.5, subject: 0.5 },
    backbone: { name: 'mobilefacenet', dim: 192, weightsSha256: weightsId(entry) },
    pipeline: { version: 'test', config: {} },
    training: { summary: {}, datasetHash: 'x'.repeat(64), photosUsed: 40, subjectsUsed: 20, warnings },
    metrics: { subject: {}, photo: {}, byView: {} }, intendedUse: INTENDED_USE, limitations: [...STANDARD_LIMITATIONS],
  });
  return { bundle, model, X };
}

describe('model bundle', () => {
  it('round-trips: the loaded classifier predicts what the saved one did', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    const { bundle, model, X } = await makeBundle(dir);
    const loaded = await loadBundle(dir);
    expect(loaded.id).toBe(bundle.id);
    expect(loaded.model.predictProba(X.slice(0, 5))).toEqual(model.predictProba(X.slice(0, 5)));
    expect(modelCard(bundle)).toMatch(/not a diagnosis/i);
    // The cross-validated rates are the fold models' at their own thresholds, not this model's.
    expect(modelCard(bundle)).toMatch(/- Sensitivity .*, specificity .*: each outer fold's model at the threshold its own training folds chose, as this model's \d\.\d{3} was chosen on all the data/);
  });

  it("shows no training warning that names training photos, and leaves the bundle's file as it is", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    const named = '"vcfs/p012/01.jpg" (subject p012) and "control/c7/02.jpg" (subject c7) are near-identical photos of different people (embedding cosine 0.998 > 0.995).';
    const nameless = 'two photos of different people were near-identical (embedding cosine 0.998; the study\'s report names them).';
    await makeBundle(dir, [named, nameless]);
    const before = readFileSync(path.join(dir, 'model.json'), 'utf8');
    const loaded = await loadBundle(dir);
    expect(loaded.training.warnings).toEqual([WITHHELD_TRAINING_WARNING, nameless]);
    expect(JSON.stringify(loaded.training)).not.toContain('p012');
    expect(readFileSync(path.join(dir, 'model.json'), 'utf8')).toBe(before);
  });

  it('refuses a bundle whose backbone weights differ from the installed ones', async () => {
    const { dir, file } = await savedBundle();
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.backbone.weightsSha256 = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(json));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/trained on mobilefacenet weights 000000000000/) });
  });

  it('refuses a bundle that says its installed backbone gives embeddings of another length than it does', async () => {
    const { file } = await savedBundle();
    const { id: _id, checksum: _checksum, contract: _contract, format: _format, formatVersion: _version, ...rest } = JSON.parse(readFileSync(file, 'utf8'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    await saveBundle(dir, { ...rest, backbone: { ...rest.backbone, dim: 512 } });
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringContaining('The model\'s backbone "mobilefacenet" gives 192-dimensional embeddings, but the bundle says it gives 512') });
  });

  it('refuses a bundle whose backbone is not installed', async () => {
    const { dir, file } = await savedBundle();
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.backbone.name = 'arcface-r100';
    writeFileSync(file, JSON.stringify(json));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/"arcface-r100" is not installed/) });
  });

  it('checks the second network a bundle names as it checks the backbone: installed, with the weights it was trained on', async () => {
    const { dir, file } = await savedBundle();
    // Edited here as a bundle saved before the checksum: the check under test is the network's.
    const { checksum: _, ...json } = JSON.parse(readFileSync(file, 'utf8'));
    const second = { name: 'dlib-resnet', dim: 128, weightsSha256: weightsId(loadManifest().models['dlib-resnet']) };
    const withSecond = { ...json, backbone: { ...json.backbone, second } };
    writeFileSync(file, JSON.stringify({ ...withSecond, id: bundleId(withSecond) }));
    expect((await loadBundle(dir)).backbone.second).toEqual(second);
    writeFileSync(file, JSON.stringify({ ...json, backbone: { ...json.backbone, second: { ...second, weightsSha256: '0'.repeat(64) } } }));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/trained on dlib-resnet weights 000000000000/) });
    writeFileSync(file, JSON.stringify({ ...json, backbone: { ...json.backbone, second: { ...second, name: 'arcface-r100' } } }));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/second network "arcface-r100" is not installed/) });
  });

  it('refuses a bundle whose classifier or thresholds no longer match its id: an edit the field checks cannot see', async () => {
    const { dir, file } = await savedBundle();
    const json = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...json, thresholds: { ...json.thresholds, subject: 0.01 } }));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/do not match its id "[0-9a-f]{16}": the bundle was edited or damaged/) });
    writeFileSync(file, JSON.stringify(json));
    expect((await loadBundle(dir)).id).toBe(json.id);
  });

  it('refuses a bundle whose figures, norms or notes no longer match its checksum, and loads one saved before the checksum', async () => {
    const { dir, file } = await savedBundle();
    const text = readFileSync(file, 'utf8');
    const json = JSON.parse(text);
    expect(json.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadBundle(dir)).id).toBe(json.id);
    // Of the right type and inside every range, so only the checksum can see it: a sensitivity
    // screening turns into a chance, a note shown to the clinician.
    const edits: Record<string, unknown>[] = [
      { metrics: { ...json.metrics, subject: { ...json.metrics.subject, sensitivity: { value: 0.99, ci95: [0.98, 1] } } } },
      { limitations: [] },
      { intendedUse: 'diagnosis' },
    ];
    for (const edit of edits) {
      writeFileSync(file, JSON.stringify({ ...json, ...edit }));
      await expect(loadBundle(dir), Object.keys(edit)[0]).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/does not match its checksum "[0-9a-f]{20,}.*: the bundle was edited or damaged/) });
    }
    // Reformatted (indentation, line ends) it is the same bundle.
    writeFileSync(file, JSON.stringify(json, null, 4).replace(/\n/g, '\r\n'));
    expect((await loadBundle(dir)).id).toBe(json.id);
    const { checksum: _, ...older } = json;
    writeFileSync(file, JSON.stringify({ ...older, limitations: [] }));
    expect((await loadBundle(dir)).limitations).toEqual([]);
  });

  it('keeps its id and checksum when a tool rewrites the file with its keys in another order, and reads bundles hashed in written order', async () => {
    const { dir, file } = await savedBundle();
    const json = JSON.parse(readFileSync(file, 'utf8'));
    // Every object's keys reversed, as a JSON tool that sorts or re-keys the file might leave them.
    const reordered = (v: unknown): unknown => (Array.isArray(v) ? v.map(reordered)
      : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reordered((v as Record<string, unknown>)[k])])) : v);
    writeFileSync(file, JSON.stringify(reordered(json), null, 2));
    expect((await loadBundle(dir)).id).toBe(json.id);
    writeFileSync(file, JSON.stringify(reordered({ ...json, limitations: [] })));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/does not match its checksum/) });
    // A bundle whose id and checksum hash its fields in the order they were written.
    const { id: _id, checksum: _sum, ...parts } = json;
    const written = { ...parts, id: '' } as Record<string, unknown>;
    written.id = createHash('sha256').update(JSON.stringify([json.classifier, json.backbone, json.thresholds, json.positive, json.negative, ...(json.ranking ? [json.ranking.classifier] : []), ...(json.features ? [json.features] : [])])).digest('hex').slice(0, 16);
    const ordered = { contract: written.contract, format: written.format, formatVersion: written.formatVersion, id: written.id, ...written };
    writeFileSync(file, JSON.stringify({ ...ordered, checksum: createHash('sha256').update(JSON.stringify(ordered)).digest('hex') }));
    expect((await loadBundle(dir)).id).toBe(written.id);
  });

  it('names a checksum of the wrong form as such, and reads a bundle saved with a byte-order mark', async () => {
    const { dir, file } = await savedBundle();
    const json = JSON.parse(readFileSync(file, 'utf8'));
    for (const checksum of [5, null, [json.checksum], json.checksum.toUpperCase(), '']) {
      writeFileSync(file, JSON.stringify({ ...json, checksum }));
      await expect(loadBundle(dir), JSON.stringify(checksum)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/"checksum" is .*; expected the sha256 of the bundle \(64 lowercase hex digits\)/) });
    }
    writeFileSync(file, '\uFEFF' + JSON.stringify(json, null, 2));
    expect((await loadBundle(dir)).id).toBe(json.id);
  });

  it('refuses a bundle nested deeper than the stack can serialise, wherever the nesting is, as a damaged bundle', async () => {
    const { dir, file } = await savedBundle();
    const text = readFileSync(file, 'utf8');
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    for (const at of ['"createdAt":', '"classifier": {', '"metrics": {']) {
      writeFileSync(file, text.replace(at, at.endsWith('{') ? `${at}"junk": ${deep},` : `"junk": ${deep},\n ${at}`));
      await expect(loadBundle(dir), at).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/holds values nested more than 100 levels deep, where a model bundle nests about 10/) });
    }
  });

  it('says why a bundle that is there cannot be read, rather than that there is none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/^No model bundle at .* \(cannot read [^:]*\)\./) });
    // Larger than one string can hold.
    writeFileSync(path.join(dir, 'model.json'), '');
    truncateSync(path.join(dir, 'model.json'), 2 ** 29 + 16);
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/cannot read .*model\.json: it is 536870928 bytes, more than one text can hold/) });
  });

  it("widens a bundle's stored rates by Wilson's on the counts, as a study does, and leaves widened ones as they are", async () => {
    // As an older study stored them: no control called positive, so the bootstrap interval is [1, 1].
    const confusion = { tp: 8, fn: 2, tn: 10, fp: 0 };
    const level = {
      auc: { value: 0.9, ci95: [0.8, 0.97] },
      accuracy: { value: 0.9, ci95: [0.85, 0.95] },
      sensitivity: { value: 0.8, ci95: [0.79, 0.81] },
      specificity: { value: 1, ci95: [1, 1] },
      confusion,
    };
    const noInterval = { sensitivity: { value: 0.8, ci95: null }, specificity: { value: 1 }, confusion };
    const loaded = await loadBundle(await toyBundle({ subject: level, photo: level, byView: { frontal: { subject: level, photo: noInterval } } }));
    const wilsonSpec = wilsonInterval(10, 10)!;
    expect(wilsonSpec[0]).toBeLessThan(0.8);
    for (const l of [loaded.metrics.subject, loaded.metrics.photo, (loaded.metrics.byView.frontal as { subject: unknown }).subject] as Record<string, { ci95: number[] }>[]) {
      expect(l.specificity.ci95).toEqual([wilsonSpec[0], 1]);
      expect(l.sensitivity.ci95).toEqual(rateInterval([0.79, 0.81], 8, 10));
      expect(l.accuracy.ci95).toEqual(rateInterval([0.85, 0.95], 18, 20));
      expect(l.auc.ci95).toEqual([0.8, 0.97]); // not a rate of counts
    }
    // Wilson's alone would treat photos as independent: a rate without a bootstrap interval keeps none.
    expect((loaded.metrics.byView.frontal as { photo: unknown }).photo).toEqual(noInterval);
    // Saved again as loaded, the bundle loads with the same intervals: widening is idempotent.
    const again = await loadBundle(await toyBundle(loaded.metrics));
    expect(again.metrics).toEqual(loaded.metrics);
  });

  it.skipIf(process.platform === 'win32')('refuses a named pipe in place of model.json instead of waiting for a writer', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    execFileSync('mkfifo', [path.join(dir, 'model.json')]);
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/No model bundle at/) });
  });

  it('refuses a bundle written under a later contract (fields may be renamed), though its id, which does not cover the contract, matches', async () => {
    const { dir, file } = await savedBundle();
    const { id: _id, checksum: _checksum, contract: _contract, format: _format, formatVersion: _version, ...rest } = JSON.parse(readFileSync(file, 'utf8'));
    const future = await saveBundle(dir, rest);
    const { checksum: _, ...unsummed } = { ...future, contract: 2 };
    writeFileSync(file, JSON.stringify(unsummed));
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringContaining('was written under contract 2; this Phenoface reads contract 1') });
  });

  it('refuses a missing or foreign bundle with a clear message', async () => {
    await expect(loadBundle('/nonexistent/model')).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/No model bundle/) });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    writeFileSync(path.join(dir, 'model.json'), '{"format":"other"}');
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(/not a Phenoface model bundle/) });
  });
  it('refuses, naming the field, a bundle whose thresholds, metrics, backbone or classes were damaged, so no call comes from them', async () => {
    const { dir, file } = await savedBundle();
    // Edited here as a bundle saved before the checksum (which would refuse any edit): the checks
    // under test are the fields'.
    const { checksum: _, ...json } = JSON.parse(readFileSync(file, 'utf8'));
    const rate = { value: 0.9, ci95: [0.8, 0.95] };
    const damaged: [string, Record<string, unknown>, RegExp][] = [
      // A string or null threshold compares as false or 0: every person would get one label.
      ['thresholds.subject', { thresholds: { photo: 0.5, subject: 'NaN' } }, /"thresholds\.subject" is "NaN"; expected a number from 0 to 1/],
      ['thresholds.photo', { thresholds: { photo: null, subject: 0.5 } }, /"thresholds\.photo" is null/],
      ['thresholds range', { thresholds: { photo: 0.5, subject: -3 } }, /"thresholds\.subject" is -3/],
      ['thresholds', { thresholds: undefined }, /"thresholds" is undefined/],
      ['metrics', { metrics: {} }, /"metrics\.subject" is undefined/],
      ['metrics rate', { metrics: { subject: { sensitivity: { value: 'high' }, specificity: rate }, photo: {}, byView: {} } }, /"metrics\.subject\.sensitivity" is \{"value":"high"\}/],
      ['metrics interval', { metrics: { subject: { sensitivity: { value: 0.9, ci95: [0.95, 0.8] } }, photo: {}, byView: {} } }, /"metrics\.subject\.sensitivity"/],
      ['metrics by view', { metrics: { subject: {}, photo: {}, byView: { frontal: { photo: { auc: { value: '0.9' } } } } } }, /"metrics\.byView\.frontal\.photo\.auc"/],
      ['confusion', { metrics: { subject: { confusion: { tp: '1', fp: 0, tn: 3, fn: -1 } }, photo: {}, byView: {} } }, /"metrics\.subject\.confusion"/],
      ['backbone', { backbone: undefined }, /"backbone" is undefined/],
      ['backbone.dim', { backbone: { ...json.backbone, dim: '192' } }, /"backbone\.dim" is "192"; expected a positive integer/],
      ['positive', { positive: undefined }, /"positive" is undefined; expected a class name/],
      ['negative', { negative: 'vcfs' }, /"negative" is "vcfs"; expected a class other than the positive/],
      // v2 scores through its feature blocks; without them the first block's classifier alone would.
      ['features', { formatVersion: 2 }, /"features" is undefined; expected the feature model of a v2 bundle/],
      ['synthetic', { synthetic: 'no' }, /"synthetic" is "no"; expected true or false/],
      ['limitations', { limitations: 'none' }, /"limitations" is "none"/],
      // Screening divides one by the other ("Infinity per person on average") and the web app shows both.
      ['training people', { training: { ...json.training, subjectsUsed: 0 } }, /"training\.subjectsUsed" is 0; expected a whole number of people, 1 or more/],
      ['training photos', { training: { ...json.training, photosUsed: 'many' } }, /"training\.photosUsed" is "many"; expected a whole number of photos, one or more per person \(20\)/],
      ['training photos fewer than people', { training: { ...json.training, photosUsed: 7 } }, /"training\.photosUsed" is 7/],
    ];
    for (const [what, change, message] of damaged) {
      writeFileSync(file, JSON.stringify({ ...json, ...change }));
      await expect(loadBundle(dir), what).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(message) });
    }
    writeFileSync(file, JSON.stringify({ ...json, metrics: { subject: { sensitivity: rate, specificity: { value: null, ci95: null }, auc: null, confusion: { tp: 9.5, fp: 1, tn: 9, fn: 0.5 } }, photo: {}, byView: { profile: { photo: { auc: rate } } } } }));
    expect((await loadBundle(dir)).thresholds).toEqual({ photo: 0.5, subject: 0.5 });
  });
});
