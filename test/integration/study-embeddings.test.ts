/**
 * A pooled multi-site study from precomputed embeddings, end to end through the CLI: `study
 * --embeddings --validate-by source` on vectors of a network Phenoface does not ship (its own name,
 * an odd dimension), with no photo on disk; then `screen --embeddings` on one person's records,
 * and the refusals of records from another network, and of a model from photos whose embedding
 * block also reads a second network's vectors.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';
import { QUICK_STUDY, writeStudyData } from '../cli/study-fixture.ts';
import { runStudy } from '../../src/workflows/study/study.ts';
import { esc } from '../../src/report/index.ts';
import { prevalenceText } from '../../src/evaluate/post-test.ts';
import { syntheticStudy } from '../unit/evaluate/synthetic-embeddings.ts';

const BACKBONE = 'site-net-v2';
const DIM = 37;
const SITES = ['north', 'south', 'west'];

let dir: string;
const data = syntheticStudy({ subjects: 48, photosPerSubject: 3, dim: DIM, signal: 10, seed: 11 });
const siteOf = (subject: string) => SITES[[...new Set(data.subjects)].indexOf(subject) % SITES.length];
const photoPath = (i: number) => `${siteOf(data.subjects[i])}/${data.subjects[i]}/${i}.jpg`;
const record = (i: number, backbone = BACKBONE, vector: ArrayLike<number> = data.X[i], view?: string) =>
  JSON.stringify({ contract: 1, path: photoPath(i), face: { box: { x: 1, y: 2, width: 30, height: 30 }, score: 0.99, landmarks5: [[10, 12], [20, 12], [15, 18], [11, 24], [19, 24]], ...(view ? { view } : {}) }, backbone, embedding: Array.from(vector) });
/** `embed`'s record of a photo without a usable face. */
const failed = (i: number) => JSON.stringify({ contract: 1, path: photoPath(i), error: { code: 'E_NO_FACE', message: 'No face found in this photo.' } });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-study-emb-'));
  const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'},${siteOf(data.subjects[i])}`);
  writeFileSync(path.join(dir, 'pooled.csv'), ['path,subject,label,source', ...rows].join('\n') + '\n');
  writeFileSync(path.join(dir, 'pooled.jsonl'), data.X.map((_, i) => record(i)).join('\n') + '\n');
});

describe('study --embeddings --validate-by source, then screen --embeddings', () => {
  it('runs the study from the vectors alone and validates site by site', async () => {
    expect(existsSync(path.join(dir, photoPath(0)))).toBe(false);
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'source', '--out', 'out', '--folds', '3', '--repeats', '2', '--bootstrap', '50', '--permutations', '0', '--quiet'], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'out/metrics.json'), 'utf8'));
    expect(metrics.backbone).toBe(BACKBONE);
    expect(metrics.embeddings).toMatchObject({ file: 'pooled.jsonl', backbone: BACKBONE, dimension: DIM, records: data.X.length, normalised: true });
    expect(metrics.embeddings.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(metrics.subject.auc.value).toBeGreaterThan(0.8);
    expect(io.stdout).toContain("Cross-validation: subject-grouped, 3 folds x 2 repeats, each person's photos held out together; [brackets] are 95% intervals, from resampling the people.\n");
    expect(metrics.sites.column).toBe('source');
    expect(Object.keys(metrics.sites.bySite)).toEqual(SITES);
    for (const site of SITES) {
      const s = metrics.sites.bySite[site];
      const people = new Set(data.subjects.filter((subject) => siteOf(subject) === site)).size;
      expect(s.subject.n.units).toBe(people);
      expect(s.train.subjects).toBe(48 - people);
      expect(s.subject.auc.ci95).toHaveLength(2);
      expect(s.subject.calibration.meanPredicted).toBeGreaterThan(0);
    }
    expect(metrics.sites.pooled.subject.n.units).toBe(48);
    expect(metrics.sites.spread.subject.auc.sites).toBe(3);
    // The shapes the contract gives: the curves are bin lists with an ROC in the top-level and per-view
    // blocks, an object with bins and no ROC under sites, and absent from subgroups and the baseline;
    // one block from the file leaves the final model nothing to choose or stack.
    const bin = { lower: expect.any(Number), upper: expect.any(Number), count: expect.any(Number), positives: expect.any(Number), meanPredicted: expect.any(Number), observedRate: expect.any(Number), ci95: expect.any(Array) };
    for (const block of [metrics.photo, metrics.subject, ...Object.values(metrics.byView as Record<string, { subject: object }>).map((v) => v.subject)]) {
      expect(block.calibration[0]).toEqual(bin);
      expect(Object.keys(block.roc)).toEqual(['fpr', 'tpr', 'lower', 'upper']);
    }
    for (const block of [metrics.sites.bySite[SITES[0]].subject, metrics.sites.pooled.photo]) {
      expect(Object.keys(block.calibration)).toEqual(['meanPredicted', 'observedRate', 'bins']);
      expect(block.calibration.bins[0]).toEqual(bin);
      expect(block).not.toHaveProperty('roc');
    }
    for (const block of [Object.values(metrics.bySubgroup.source as Record<string, { subject: object }>)[0].subject, metrics.baseline.subject]) {
      expect(block).not.toHaveProperty('calibration');
      expect(block).not.toHaveProperty('roc');
    }
    expect(metrics.features.final).toEqual({ features: ['embedding'] });
    expect(metrics.sites).not.toHaveProperty('differentialNote');
    for (const site of SITES) {
      const line = new RegExp(`^held out source ${site}: AUC per person \\d\\.\\d{3} \\[(\\d\\.\\d{3}), (\\d\\.\\d{3})\\]( \\(every resample alike: not a certainty\\))?$`, 'm').exec(io.stdout);
      expect(line).not.toBeNull();
      // An interval of one value (an AUC of 1 in every resample) says it is no certainty, as the report does.
      if (line![3]) expect(line![1]).toBe(line![2]);
    }
    expect(io.stdout).toContain(path.join(dir, 'out', 'site-predictions.csv'));
    const report = readFileSync(path.join(dir, 'out/report.html'), 'utf8');
    expect(report).toContain('Leave-one-source-out');
    expect(report).toMatch(/Not analysed: this study read precomputed embeddings/);
    const bundle = JSON.parse(readFileSync(path.join(dir, 'out/model/model.json'), 'utf8'));
    expect(bundle.backbone).toEqual({ name: BACKBONE, dim: DIM, weightsSha256: null });
    expect(bundle.embeddings.sha256).toBe(metrics.embeddings.sha256);
    // The model card states what metrics.json holds and model.json does not: the prevalence and the permutation test.
    const card = readFileSync(path.join(dir, 'out/model/MODEL_CARD.md'), 'utf8');
    expect(card).toContain(`at a prevalence of ${prevalenceText(metrics.options.prevalence)} (\`--prevalence\`)`);
    expect(card).toContain('subject-grouped 3-fold cross-validation, 2 repeats');
    expect(card).toContain('statistic: AUC per person): not run (`--permutations 0`)');
    expect(card).toContain(`- Per person: ${metrics.subject.n.units} people (${metrics.subject.n.positive} vcfs, ${metrics.subject.n.negative} control)`);
  });

  it("writes each photo's held-out score to site-predictions.csv, from which every site's figures follow", () => {
    const metrics = JSON.parse(readFileSync(path.join(dir, 'out/metrics.json'), 'utf8'));
    const [header, ...lines] = readFileSync(path.join(dir, 'out/site-predictions.csv'), 'utf8').trim().split('\n');
    expect(header).toBe('path,subject,label,view,site,probability,photoThreshold,subjectThreshold');
    const rows = lines.map((l) => l.split(',')).map(([file, subject, label, , site, p, tPhoto, tSubject]) => ({ file, subject, y: label === 'vcfs' ? 1 : 0, site, p: Number(p), tPhoto: Number(tPhoto), tSubject: Number(tSubject) }));
    expect(rows.map((r) => r.file)).toEqual(data.X.map((_, i) => photoPath(i)));
    expect(rows.every((r) => r.site === siteOf(r.subject))).toBe(true);
    for (const site of SITES) {
      const here = rows.filter((r) => r.site === site);
      const reported = metrics.sites.bySite[site];
      expect(new Set(here.map((r) => r.tSubject))).toEqual(new Set([reported.thresholds.subject]));
      expect(new Set(here.map((r) => r.tPhoto))).toEqual(new Set([reported.thresholds.photo]));
      // A person's score is the mean of their photos', called positive at >= the training sites' threshold.
      const people = [...new Set(here.map((r) => r.subject))].map((subject) => {
        const own = here.filter((r) => r.subject === subject);
        return { y: own[0].y, p: own.reduce((a, r) => a + r.p, 0) / own.length };
      });
      for (const [level, units, t] of [['subject', people, reported.thresholds.subject], ['photo', here, reported.thresholds.photo]] as const) {
        const pos = units.filter((u) => u.y === 1), neg = units.filter((u) => u.y === 0);
        const auc = pos.reduce((a, u) => a + neg.reduce((b, v) => b + (u.p > v.p ? 1 : u.p === v.p ? 0.5 : 0), 0), 0) / (pos.length * neg.length);
        expect(reported[level].auc.value).toBeCloseTo(auc, 12);
        expect(reported[level].sensitivity.value).toBeCloseTo(pos.filter((u) => u.p >= t).length / pos.length, 12);
        expect(reported[level].specificity.value).toBeCloseTo(neg.filter((u) => u.p < t).length / neg.length, 12);
      }
    }
  });

  it('says where a site has no interval or lacks a class, and that the sites validate the binary model of a ranking', async () => {
    // A ranking of three classes: every "rare" person at west, and a fourth site with one vcfs person and two controls.
    const vcfs = [...new Set(data.subjects.filter((_, i) => data.y[i]))];
    const controls = [...new Set(data.subjects.filter((_, i) => !data.y[i]))];
    const tiny = new Set([vcfs[0], ...controls.slice(0, 2)]);
    const rare = new Set(controls.slice(2).filter((s) => siteOf(s) === 'west').slice(0, 4));
    const site = (s: string) => (tiny.has(s) ? 'tiny' : siteOf(s));
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : rare.has(data.subjects[i]) ? 'rare' : 'control'},${site(data.subjects[i])}`);
    writeFileSync(path.join(dir, 'four.csv'), ['path,subject,label,source', ...rows].join('\n') + '\n');
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', 'four.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'source', '--out', 'four', '--folds', '3', '--repeats', '1', '--bootstrap', '50', '--permutations', '0', '--quiet'], io);
    expect(code, io.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'four/metrics.json'), 'utf8'));
    expect(metrics.mode).toBe('ranking');
    const warning = `no other value of source has a "rare" person, so the model that predicts west never saw that class: west's 4 "rare" people count as negatives of "vcfs" against the rest, and west's specificity reflects a class unseen in training, not only how the model travels.`;
    expect(metrics.sites.bySite.west.warnings).toEqual([warning]);
    expect(metrics.sites.bySite.north).not.toHaveProperty('warnings');
    expect(metrics.sites.bySite.tiny.subject.auc).toMatchObject({ ci95: null });
    expect(metrics.sites.bySite.tiny.intervalNote).toMatch(/^no interval: too few people \(1 positive, 2 negative;/);
    expect(metrics.sites.differentialNote).toMatch(/^Leave-one-source-out validates the binary model \("vcfs" against all other classes pooled\), not the ranked differential/);
    expect(io.stdout).toMatch(/^held out source tiny: AUC per person \d\.\d{3} \(no interval: too few people, 1 positive and 2 negative\)$/m);
    expect(io.stdout).toContain(`held out source west: AUC per person`);
    expect(io.stdout).toContain(`\n  warning: ${warning}\n`);
    expect(io.stdout).toContain(`\n${metrics.sites.differentialNote}\n`);
    const report = readFileSync(path.join(dir, 'four/report.html'), 'utf8');
    expect(report).toContain(`<strong>${esc(metrics.sites.differentialNote)}</strong>`);
    expect(report).toContain('<li><strong>tiny</strong>: no interval: too few people');
    expect(report).toContain(`<li><strong>west</strong>: ${esc(warning)}</li>`);
    // An extreme of the spread from a site with a caveat is marked as such.
    const { spread } = metrics.sites;
    for (const k of ['auc', 'sensitivity', 'specificity']) {
      for (const s of [...spread.subject[k].minAt, ...spread.subject[k].maxAt]) if (s === 'tiny' || s === 'west') expect(report).toContain(`${s}*`);
    }
    expect(report).toMatch(/<td>\d\.\d{3} <span class="ci">\([^)]*\b(tiny|west)\*/);
    // site-predictions.csv is the study's own: a re-run replaces the folder.
    expect(await main(['study', '--manifest', 'four.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'source', '--out', 'four', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], memoryIO(dir))).toBe(0);
  }, 120_000);

  it('says a view\'s figure has no interval when too few people give one, rather than print it bare', async () => {
    const people = [...new Set(data.subjects)];
    const few = new Set([people.find((p) => data.y[data.subjects.indexOf(p)] === 1)!, people.find((p) => data.y[data.subjects.indexOf(p)] === 0)!]);
    writeFileSync(path.join(dir, 'views.jsonl'), data.X.map((_, i) => record(i, BACKBONE, data.X[i], few.has(data.subjects[i]) ? 'profile' : 'frontal')).join('\n') + '\n');
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'views.jsonl', '--out', 'views', '--folds', '3', '--repeats', '1', '--bootstrap', '50', '--permutations', '0', '--quiet'], io);
    expect(code).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'views/metrics.json'), 'utf8'));
    expect(metrics.byView.profile.subject.auc.ci95).toBeNull();
    expect(io.stdout).toMatch(/^profile: AUC per person (\d\.\d{3} \(no interval: too few people\)|n\/a) \(2 people\)$/m);
    expect(io.stdout).toMatch(/^frontal: AUC per person \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(46 people\)$/m);
  });

  it("counts a view's one person as \"1 person\"", async () => {
    const one = data.subjects[0];
    writeFileSync(path.join(dir, 'one-view.jsonl'), data.X.map((_, i) => record(i, BACKBONE, data.X[i], data.subjects[i] === one ? 'profile' : 'frontal')).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'one-view.jsonl', '--out', 'one-view', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], io)).toBe(0);
    expect(io.stdout).toMatch(/^profile: AUC per person n\/a \(1 person\)$/m);
  });

  it('refuses a column it cannot hold out before fitting anything', async () => {
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'hospital', '--out', 'refused', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_MANIFEST: --validate-by hospital: no row has a "hospital" value\. Columns with values: source\./);
    const label = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'label', '--out', 'refused', '--quiet'], label)).toBe(1);
    expect(label.stderr).toMatch(/E_MANIFEST: --validate-by label: "label" is one of the manifest's own columns, not a site: holding out each of its values would leave a class out of training/);
    expect(existsSync(path.join(dir, 'refused', 'metrics.json'))).toBe(false);
  });

  it('refuses too few people per class for the folds, naming the classes, before reading anything', async () => {
    const vcfs = [...new Set(data.subjects.filter((_, i) => data.y[i]))];
    const keep = data.X.map((_, i) => i).filter((i) => !data.y[i] || data.subjects[i] === vcfs[0]);
    writeFileSync(path.join(dir, 'one-vcfs.csv'), ['path,subject,label', ...keep.map((i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`)].join('\n') + '\n');
    const controls = new Set(keep.filter((i) => !data.y[i]).map((i) => data.subjects[i])).size;
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'one-vcfs.csv', '--embeddings', 'missing.jsonl', '--folds', '30', '--out', 'thin', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain(`E_MANIFEST: Too few people for the study: "vcfs" has 1 person, fewer than the 30 folds (each test fold needs a person of each class); "control" has ${controls} people, fewer than the 30 folds`);
    // Fewer folds cannot help a class of one person (there are at least 2 folds); they can help the controls.
    expect(io.stderr).toContain(`. Add people to "vcfs": each of the two classes needs at least 3 people (2 in every training set), whatever --folds. For "control": add people, or lower --folds to ${controls}.`);
    expect(existsSync(path.join(dir, 'thin'))).toBe(false);
  });

  it('without --folds, runs the most folds (up to 10) that the smaller class allows, and says so', async () => {
    const vcfs = [...new Set(data.subjects.filter((_, i) => data.y[i]))].slice(0, 6);
    const keep = data.X.map((_, i) => i).filter((i) => !data.y[i] || vcfs.includes(data.subjects[i]));
    writeFileSync(path.join(dir, 'six-vcfs.csv'), ['path,subject,label', ...keep.map((i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'six-vcfs.csv', '--embeddings', 'pooled.jsonl', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--out', 'six'], io)).toBe(0);
    expect(io.stderr).toContain('study: 6 folds, the most that the classes\' people allow (up to 10; --folds sets them)');
    expect(io.stdout).toContain("Cross-validation: subject-grouped, 6 folds x 1 repeat, each person's photos held out together.\n");
    const metrics = JSON.parse(readFileSync(path.join(dir, 'six/metrics.json'), 'utf8'));
    expect(metrics.options.folds).toBe(6);
    expect(new Set(readFileSync(path.join(dir, 'six/predictions.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[5])).size).toBe(6);
    // Given, the folds are as asked: a class too small for them is refused, not quietly run with fewer.
    expect(await main(['study', '--manifest', 'six-vcfs.csv', '--embeddings', 'pooled.jsonl', '--folds', '10', '--out', 'six-ten', '--quiet'], memoryIO(dir))).toBe(1);
  });

  it('offers fewer folds when a class is short only of the folds', async () => {
    const vcfs = [...new Set(data.subjects.filter((_, i) => data.y[i]))].slice(0, 3);
    const keep = data.X.map((_, i) => i).filter((i) => !data.y[i] || vcfs.includes(data.subjects[i]));
    writeFileSync(path.join(dir, 'three-vcfs.csv'), ['path,subject,label', ...keep.map((i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'three-vcfs.csv', '--embeddings', 'missing.jsonl', '--folds', '5', '--out', 'short', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_MANIFEST: Too few people for the study: "vcfs" has 3 people, fewer than the 5 folds (each test fold needs a person of each class). Add people, or lower --folds to 3.');
  });

  it.each([
    [2, '2', /"vcfs" has 2 people: with 2 folds a training set holds 1 of them, and the inner cross-validation that tunes the classifier and fixes its threshold needs 2\. Add people to "vcfs": each of the two classes needs at least 3 people \(2 in every training set\), whatever --folds\./],
    [2, '5', /"vcfs" has 2 people, fewer than the 5 folds \(each test fold needs a person of each class\)\. Add people to "vcfs": each of the two classes needs at least 3 people/],
    [3, '2', /"vcfs" has 3 people: with 2 folds a training set holds 1 of them, and the inner cross-validation that tunes the classifier and fixes its threshold needs 2\. Add people, or set --folds to 3\./],
  ])('refuses a class of %i people with --folds %s, before reading anything: every training set needs 2 of its people', async (n, folds, message) => {
    const vcfs = [...new Set(data.subjects.filter((_, i) => data.y[i]))].slice(0, n);
    const keep = data.X.map((_, i) => i).filter((i) => !data.y[i] || vcfs.includes(data.subjects[i]));
    writeFileSync(path.join(dir, `vcfs-${n}.csv`), ['path,subject,label', ...keep.map((i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', `vcfs-${n}.csv`, '--embeddings', 'missing.jsonl', '--folds', folds, '--out', 'thin-training', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_MANIFEST: Too few people for the study: ');
    expect(io.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'thin-training'))).toBe(false);
  });

  it('says a class left too few people by photos without a usable face is too small, as before reading them (E_MANIFEST), not from inside the cross-validation', async () => {
    const kept = [...new Set(data.subjects.filter((_, i) => data.y[i]))].slice(0, 2);
    writeFileSync(path.join(dir, 'thinned.jsonl'), data.X.map((_, i) => (data.y[i] && !kept.includes(data.subjects[i]) ? failed(i) : record(i))).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'thinned.jsonl', '--folds', '2', '--out', 'thinned', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_MANIFEST: Too few people for the study after removing photos without a usable face: "vcfs" has 2 people: with 2 folds a training set holds 1 of them');
    expect(io.stderr).not.toContain('inner CV');
    expect(existsSync(path.join(dir, 'thinned'))).toBe(false);
  });

  it('counts a ranking class whose every photo had no usable face as 0 people, not 1', async () => {
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`);
    writeFileSync(path.join(dir, 'gone-class.csv'), ['path,subject,label', ...rows, 'n/n1/x.jpg,n1,noonan', 'n/n2/x.jpg,n2,noonan'].join('\n') + '\n');
    const gone = (p: string) => JSON.stringify({ contract: 1, path: p, error: { code: 'E_NO_FACE', message: 'No face found in this photo.' } });
    writeFileSync(path.join(dir, 'gone-class.jsonl'), [...data.X.map((_, i) => record(i)), gone('n/n1/x.jpg'), gone('n/n2/x.jpg')].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'gone-class.csv', '--embeddings', 'gone-class.jsonl', '--out', 'gone-class', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_MANIFEST: Too few people for the study after removing photos without a usable face: class "noonan" has 0 people, and a ranking needs 2 in each class');
  });

  it("prints a site name's terminal escape as text in the summary, never to the terminal", async () => {
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'},${siteOf(data.subjects[i]) === 'north' ? 'north\x1b]0;owned\x07\x1b[2J' : 'elsewhere'}`);
    writeFileSync(path.join(dir, 'escape.csv'), ['path,subject,label,source', ...rows].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'escape.csv', '--embeddings', 'pooled.jsonl', '--validate-by', 'source', '--out', 'escape', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], io)).toBe(0);
    expect(io.stdout).toContain('held out source north\\u{1b}]0;owned\\u{7}\\u{1b}[2J: AUC per person');
    expect([...io.stdout].filter((c) => c === '\x07' || c === '\x1b')).toEqual([]);
  });

  it("logs a label's terminal escapes as text on stderr, never to the terminal", async () => {
    const label = 'vcfs\x1b]0;owned\x07\x1b[2J';
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? label : 'control'}`);
    writeFileSync(path.join(dir, 'escape-log.csv'), ['path,subject,label', ...rows].join('\n') + '\n');
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', 'escape-log.csv', '--embeddings', 'pooled.jsonl', '--out', 'escape-log', '--positive', label, '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0'], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stderr).toContain('vcfs\\u{1b}]0;owned\\u{7}\\u{1b}[2J');
    expect([...io.stderr].filter((c) => c === '\x07' || c === '\x1b')).toEqual([]);
  });

  it('refuses a ranking with a class of one person before reading anything', async () => {
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`);
    const noonan = `${photoPath(0).replace(/\/[^/]+\/\d+\.jpg$/, '')}/n1/x.jpg,n1,noonan`;
    writeFileSync(path.join(dir, 'three.csv'), ['path,subject,label', ...rows, noonan].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'three.csv', '--embeddings', 'missing.jsonl', '--out', 'ranked', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_MANIFEST: Too few people for the study: class "noonan" has 1 person, and a ranking needs 2 in each class (a held-out class must be learnt from another person). Add people to "noonan": a class needs at least 2 people, whatever --folds.');
    expect(io.stderr).not.toContain('--folds (');
    expect(io.stderr).not.toContain('lower --folds');
  });

  it('names the first 20 of 200 one-person classes in a short message, counting the rest', async () => {
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'}`);
    const singles = Array.from({ length: 200 }, (_, k) => `rare/r${k}/x.jpg,r${k},rare${String(k).padStart(3, '0')}`);
    writeFileSync(path.join(dir, 'rare.csv'), ['path,subject,label', ...rows, ...singles].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'rare.csv', '--embeddings', 'missing.jsonl', '--out', 'rare', '--quiet'], io)).toBe(1);
    const named = Array.from({ length: 20 }, (_, k) => `"rare${String(k).padStart(3, '0')}"`).join(', ');
    expect(io.stderr).toContain(`E_MANIFEST: Too few people for the study: 200 classes have 1 person each (${named} and 180 more), and a ranking needs 2 in each class (a held-out class must be learnt from another person). Add people to ${named} and 180 more: a class needs at least 2 people, whatever --folds.`);
    expect(io.stderr.length).toBeLessThan(1500);
  });

  it.each([
    ['every control photo failed', (i: number) => (data.y[i] ? record(i) : failed(i)), [], /After removing photos without a usable face, only "vcfs" is left; a study needs both classes\. "control": (\d+) photo\(s\), \1 without a usable face \(first: "[a-z]+\/s\d+\/\d+\.jpg": E_NO_FACE: No face found in this photo\.\)\./],
    ['every photo failed', failed, [], /no photo is left; a study needs both classes\. "vcfs": (\d+) photo\(s\), \1 without a usable face \(first: .*\); "control": (\d+) photo\(s\), \2 without a usable face/],
    ['the controls are all profiles, with --frontal-only', (i: number) => record(i, BACKBONE, data.X[i], data.y[i] ? 'frontal' : 'profile'), ['--frontal-only'], /without a usable face or not frontal \(--frontal-only\), only "vcfs" is left; a study needs both classes\. "control": (\d+) photo\(s\), 0 without a usable face, \1 not frontal\./],
  ])('says what was removed when a class is gone: %s (E_MANIFEST)', async (_, line, extra, message) => {
    writeFileSync(path.join(dir, 'gone.jsonl'), data.X.map((_, i) => line(i)).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'gone.jsonl', '--out', 'gone', '--quiet', ...extra], io)).toBe(1);
    expect(io.stderr).toMatch(/E_MANIFEST/);
    expect(io.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'gone', 'metrics.json'))).toBe(false);
  });

  it('names the first photo left out without a usable face as it goes, since a study refused later writes no report', async () => {
    writeFileSync(path.join(dir, 'one-failed.jsonl'), data.X.map((_, i) => (i === 4 ? failed(i) : record(i))).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'one-failed.jsonl', '--out', 'one-failed', '--folds', '3', '--repeats', '1', '--bootstrap', '20', '--permutations', '0'], io)).toBe(0);
    expect(io.stderr).toContain(`study: 1 photo without a usable face, left out (a finished study's report lists each; first: "${photoPath(4)}": E_NO_FACE)`);
  });

  it('refuses records that name an installed backbone with another dimension', async () => {
    writeFileSync(path.join(dir, 'misnamed.jsonl'), data.X.map((_, i) => record(i, 'mobilefacenet')).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'misnamed.jsonl', '--out', 'misnamed', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: The embeddings in misnamed\.jsonl name backbone "mobilefacenet" but have 37 dimensions; the "mobilefacenet" installed here gives \d+/);
  });

  it('screens one person from their records with that model', async () => {
    const person = data.subjects.find((s, i) => data.y[i] === 1)!;
    const rows = data.subjects.flatMap((s, i) => (s === person ? [i] : []));
    writeFileSync(path.join(dir, 'person.jsonl'), rows.map((i) => record(i)).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'person.jsonl', '--json'], io)).toBe(0);
    const result = JSON.parse(io.stdout);
    expect(result.contract).toBe(1);
    expect(result.photos.map((p: { path: string }) => p.path)).toEqual(rows.map(photoPath));
    expect(result.subject.photos).toBe(rows.length);
    expect(result.subject.probability).toBeGreaterThan(0);
    expect(result.model.backbone).toBe(BACKBONE);
    // No pixels, no landmarks: none of the fields that need them, measurements included (the contract says so).
    for (const field of ['box', 'pose', 'landmarks5', 'width', 'height', 'measurements', 'geometryRegions', 'regions', 'heatmap']) expect(result.photos[0]).not.toHaveProperty(field);
    expect(result.subject).not.toHaveProperty('measurements');
    expect(result.subject).not.toHaveProperty('measurementsNote');
  });

  it('screens the usable records of a file with bad lines, each bad line its own E_INPUT record in file order (exit 3)', async () => {
    const person = data.subjects.find((s, i) => data.y[i] === 1 && data.subjects.filter((t) => t === s).length >= 2)!;
    const good = data.subjects.flatMap((s, i) => (s === person ? [i] : [])).slice(0, 2);
    writeFileSync(path.join(dir, 'good.jsonl'), good.map((i) => record(i)).join('\n') + '\n');
    const sideways = JSON.stringify({ ...JSON.parse(record(good[0])), path: 'sideways.jpg', view: 'sideways' });
    const short = JSON.stringify({ ...JSON.parse(record(good[1], BACKBONE, data.X[good[1]].slice(0, 20))), path: 'short.jpg' });
    writeFileSync(path.join(dir, 'mixed.jsonl'), [record(good[0]), '{not json', sideways, record(good[1]), short, record(good[0])].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'mixed.jsonl', '--json'], io)).toBe(3);
    const result = JSON.parse(io.stdout);
    expect(result.photos.map((p: { path: string; error?: { code: string } }) => [p.path, p.error?.code ?? 'scored'])).toEqual([
      [photoPath(good[0]), 'scored'], ['line 2', 'E_INPUT'], ['sideways.jpg', 'E_INPUT'], [photoPath(good[1]), 'scored'], ['short.jpg', 'E_INPUT'], [photoPath(good[0]), 'E_INPUT'],
    ]);
    expect(result.photos[1].error.message).toMatch(/^mixed\.jsonl, line 2: not valid JSON/);
    expect(result.photos[2].error.message).toMatch(/^mixed\.jsonl, line 3: view "sideways"; expected one of: frontal, oblique, profile/);
    expect(result.photos[4].error.message).toMatch(/^mixed\.jsonl, line 5: the embedding has 20 values; expected 37/);
    expect(result.photos[5].error.message).toMatch(/line 6: path .* has a record already, at line 1/);
    // The person's result is that of the usable records alone.
    const alone = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'good.jsonl', '--json'], alone)).toBe(0);
    expect(result.subject).toEqual(JSON.parse(alone.stdout).subject);
  });

  it('refuses a file with no record at all (E_INPUT, exit 1)', async () => {
    writeFileSync(path.join(dir, 'empty.jsonl'), '\n\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'empty.jsonl', '--json'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: Embeddings ".*empty\.jsonl" have 1 problem; nothing was run:\n {2}- no records/);
  });

  it('names the photos whose records say their face looks on its side, as a study of the photos would', async () => {
    const lines = data.X.map((_, i) => { const r = JSON.parse(record(i)); if (i < 2) r.face.turned = i ? 180 : 90; return JSON.stringify(r); });
    writeFileSync(path.join(dir, 'turned-all.jsonl'), lines.join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'turned-all.jsonl', '--out', 'turned-study', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0'], io), io.stderr).toBe(0);
    expect(io.stderr).toMatch(/study: 2 photos look on their side or upside down and are used as they are/);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'turned-study/metrics.json'), 'utf8'));
    expect(metrics.data.photosTurned).toEqual([{ path: photoPath(0), turned: 90 }, { path: photoPath(1), turned: 180 }]);
  });

  it('warns about a photo whose record says its face looks on its side, as screening the photo would', async () => {
    const turned = (i: number, turn: unknown) => { const r = JSON.parse(record(i)); r.face.turned = turn; return JSON.stringify(r); };
    writeFileSync(path.join(dir, 'turned.jsonl'), [turned(0, 270), turned(1, 45), record(2)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'turned.jsonl', '--json'], io)).toBe(0);
    const warnings = JSON.parse(io.stdout).photos.map((p: { warnings: string[] }) => p.warnings.join(' '));
    expect(warnings[0]).toMatch(/turned on its side: it is found more surely with the photo turned 270 degrees clockwise/);
    // Not a turn the check reports: not embed's finding, so no warning.
    expect(warnings[1]).not.toMatch(/on its side|upside down/);
    expect(warnings[2]).not.toMatch(/on its side|upside down/);
  });

  it("gives the warnings of a record's quality flags as screening the photo would, known flags only, each once", async () => {
    const flagged = (i: number, quality: unknown, face: Record<string, unknown> = {}) => { const r = JSON.parse(record(i)); r.quality = quality; Object.assign(r.face, face); return JSON.stringify(r); };
    const lines = [
      flagged(0, ['blurry', 'small']),
      // Unknown names (markup, a right-to-left override, not strings) are dropped, never shown; 'not-frontal' is the view advice's to word.
      flagged(1, ['<b>see clinic</b>', 'blurry\u202e', 42, null, { flag: 'small' }, 'Small', 'low-confidence', 'not-frontal'], { score: 0.42 }),
      record(2),
      flagged(3, ['turned', 'cut-off', 'cut-off'], { turned: 90 }),
      flagged(4, ['turned', 'small']).replace(/"box":\{[^}]*\}/, '"box":"elsewhere"'),
      flagged(5, 'blurry'),
    ];
    writeFileSync(path.join(dir, 'quality.jsonl'), lines.join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'quality.jsonl', '--json'], io)).toBe(0);
    const warnings = JSON.parse(io.stdout).photos.map((p: { warnings: string[] }) => p.warnings);
    expect(warnings[0]).toEqual(['face is small (30 px): details are lost; use a closer photo', 'photo looks blurry']);
    expect(warnings[1]).toEqual(['detector is unsure this is a face (score 0.42)']);
    expect(warnings[2]).toEqual([]);
    // The flag and the face's own turn say one thing: one warning, with the turn.
    expect(warnings[3]).toEqual(['the face looks turned on its side: it is found more surely with the photo turned 90 degrees clockwise (its orientation tag may be missing); turn the photo upright and screen it again', 'face is partly outside the photo']);
    // A face not in embed's form gives no measure to quote.
    expect(warnings[4]).toEqual(['the face looks on its side or upside down: it is found more surely with the photo turned (its orientation tag may be missing); turn the photo upright and screen it again', 'face is small: details are lost; use a closer photo']);
    expect(warnings[5]).toEqual([]);
  });

  it("warns about a photo whose record says it holds several faces, as screening the photo would", async () => {
    const withFaces = (i: number, faces: unknown) => { const r = JSON.parse(record(i)); r.faces = faces; return JSON.stringify(r); };
    writeFileSync(path.join(dir, 'faces.jsonl'), [withFaces(0, 3), withFaces(1, 1), withFaces(2, 2.5), withFaces(3, '4'), record(4)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'faces.jsonl', '--json'], io)).toBe(0);
    const warnings = JSON.parse(io.stdout).photos.map((p: { warnings: string[] }) => p.warnings);
    expect(warnings[0]).toEqual(['3 faces in the photo: the largest, most central one was used']);
    // One face, a count that is not a whole number, or none given: nothing to warn about.
    expect(warnings.slice(1)).toEqual([[], [], [], []]);
  });

  it('counts a record whose vector is another\'s (one photo under two names) once, with a warning, as screening the photo would', async () => {
    const copy = JSON.parse(record(0));
    copy.path = 'copy-of-0.jpg';
    writeFileSync(path.join(dir, 'copy.jsonl'), [record(0), record(1), JSON.stringify(copy)].join('\n') + '\n');
    writeFileSync(path.join(dir, 'nocopy.jsonl'), [record(0), record(1)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'copy.jsonl', '--json'], io)).toBe(0);
    const result = JSON.parse(io.stdout);
    const once = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'nocopy.jsonl', '--json'], once)).toBe(0);
    expect(result.photos.map((p: { path: string }) => p.path)).toEqual([photoPath(0), photoPath(1), 'copy-of-0.jpg']);
    expect(result.photos[2].warnings).toEqual([`the same photo as "${photoPath(0)}" (an identical face embedding): counted once in the person's result`]);
    expect(result.subject).toEqual(JSON.parse(once.stdout).subject);
  });

  it('reports a file of error records only as photos that could not be screened (exit 3)', async () => {
    writeFileSync(path.join(dir, 'failed.jsonl'), '\uFEFF' + [0, 1].map(failed).join('\n') + '\n'); // with a byte-order mark
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'failed.jsonl', '--json'], io)).toBe(3);
    const result = JSON.parse(io.stdout);
    expect(result.photos.map((p: { error: { code: string } }) => p.error.code)).toEqual(['E_NO_FACE', 'E_NO_FACE']);
    expect(result.subject).toMatchObject({ probability: null, photos: 0, error: { code: 'E_NO_USABLE_PHOTO' } });
  });

  it.each([
    ['another backbone', (i: number) => record(i, 'other-net'), /are of backbone "other-net"; the model was trained on "site-net-v2"/],
    ['another dimension', (i: number) => record(i, BACKBONE, data.X[i].slice(0, 20)), /have 20 dimensions \(site-net-v2\); the model was trained on 37-dimensional/],
  ])('refuses records of %s (E_BUNDLE)', async (_, line, message) => {
    writeFileSync(path.join(dir, 'other.jsonl'), [0, 1].map(line).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'other.jsonl'], io)).not.toBe(0);
    expect(io.stderr).toMatch(/E_BUNDLE/);
    expect(io.stderr).toMatch(message);
  });

  it('refuses to screen photos with a model of a backbone not installed here', async () => {
    writeFileSync(path.join(dir, 'x.jpg'), 'not read');
    const io = memoryIO(dir);
    expect(await main(['screen', 'x.jpg', '--model', 'out/model'], io)).not.toBe(0);
    expect(io.stderr).toMatch(/E_BUNDLE: The model was trained on precomputed site-net-v2 embeddings .*screen --model DIR --embeddings/);
  });
});

describe('a model from photos whose embedding block also reads the second network', () => {
  it('records that network in the bundle and metrics.json, and screen --embeddings refuses it (a file carries one network\'s vectors)', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-second-'));
    const { manifest } = await writeStudyData(path.join(root, 'data'), path.join(root, 'cache.sqlite'));
    const out = path.join(root, 'out');
    await runStudy({ source: manifest, out, cache: path.join(root, 'cache.sqlite'), features: ['embedding'], ...QUICK_STUDY });
    expect(JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')).secondBackbone).toBe('dlib-resnet');
    const bundle = JSON.parse(readFileSync(path.join(out, 'model', 'model.json'), 'utf8'));
    expect(bundle.backbone.second).toMatchObject({ name: 'dlib-resnet', dim: 128 });
    expect(readFileSync(path.join(out, 'model', 'MODEL_CARD.md'), 'utf8')).toMatch(/with dlib-resnet's 128-D embedding beside its own/);
    const vector = Array.from({ length: 192 }, (_, k) => (k === 0 ? 1 : 0));
    writeFileSync(path.join(root, 'person.jsonl'), JSON.stringify({ contract: 1, path: 'a.jpg', backbone: 'mobilefacenet', embedding: vector }) + '\n');
    const io = memoryIO(root);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'person.jsonl'], io)).not.toBe(0);
    expect(io.stderr).toMatch(/E_BUNDLE: The model's embedding block also reads the dlib-resnet network's 128-D embedding beside the backbone's; the records of person\.jsonl carry no second vector/);
    // Records as `embed` writes them now, with the second network's vector: screened.
    const second = Array.from({ length: 128 }, (_, k) => (k === 1 ? 1 : 0));
    writeFileSync(path.join(root, 'both.jsonl'), JSON.stringify({ contract: 1, path: 'a.jpg', backbone: 'mobilefacenet', embedding: vector, secondEmbedding: { backbone: 'dlib-resnet', embedding: second } }) + '\n');
    const both = memoryIO(root);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'both.jsonl', '--json'], both)).toBe(0);
    expect(JSON.parse(both.stdout).subject.photos).toBe(1);
  });
});

describe('study --embeddings whose records carry a second network\'s vector (as embed writes them)', () => {
  const AUX = 'site-net-aux';
  /** A second network's vector of photo i: another view of the same face (here, a reordered slice). */
  const aux = (i: number) => Array.from(data.X[i]).slice(0, 20).reverse();
  const withSecond = (i: number, second: number[] | null = aux(i)) => {
    const r = JSON.parse(record(i));
    return JSON.stringify(second ? { ...r, secondEmbedding: { backbone: AUX, embedding: second } } : r);
  };

  it('reads both vectors in the embedding block, records the second network, and screens records that carry both', async () => {
    writeFileSync(path.join(dir, 'both.jsonl'), data.X.map((_, i) => withSecond(i)).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'both.jsonl', '--out', 'both', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0'], io)).toBe(0);
    expect(io.stderr).toMatch(/matched to records of both\.jsonl \(37-D, site-net-v2, with site-net-aux's 20-D vectors beside them/);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'both/metrics.json'), 'utf8'));
    expect(metrics.secondBackbone).toBe(AUX);
    expect(metrics.embeddings.second).toEqual({ backbone: AUX, dimension: 20, records: data.X.length });
    const bundle = JSON.parse(readFileSync(path.join(dir, 'both/model/model.json'), 'utf8'));
    expect(bundle.backbone.second).toEqual({ name: AUX, dim: 20, weightsSha256: null });
    const photosOf = (person: string) => data.subjects.flatMap((s, i) => (s === person ? [i] : []));
    const person = data.subjects.find((s, i) => data.y[i] === 1 && photosOf(s).length >= 2)!;
    const rows = photosOf(person);
    writeFileSync(path.join(dir, 'person-both.jsonl'), rows.map((i) => withSecond(i)).join('\n') + '\n');
    const screened = memoryIO(dir);
    expect(await main(['screen', '--model', 'both/model', '--embeddings', 'person-both.jsonl', '--json'], screened)).toBe(0);
    expect(JSON.parse(screened.stdout).subject.photos).toBe(rows.length);
    // A record without it cannot be scored by that model: that photo is an error, the rest are screened.
    writeFileSync(path.join(dir, 'person-part.jsonl'), rows.map((i, k) => withSecond(i, k === 0 ? null : aux(i))).join('\n') + '\n');
    const part = memoryIO(dir);
    expect(await main(['screen', '--model', 'both/model', '--embeddings', 'person-part.jsonl', '--json'], part), part.stderr).toBe(3);
    const result = JSON.parse(part.stdout);
    expect(result.photos[0].error).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/carries no site-net-aux vector/) });
    expect(result.subject.photos).toBe(rows.length - 1);
  });

  it('reads the backbone\'s vectors alone, and says so, when only some records carry the second', async () => {
    writeFileSync(path.join(dir, 'some.jsonl'), data.X.map((_, i) => withSecond(i, i % 2 ? aux(i) : null)).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'some.jsonl', '--out', 'some', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0'], io)).toBe(0);
    expect(io.stderr).toMatch(/only 80 of 160 photos' records in some\.jsonl carry site-net-aux's vector beside the backbone's; the study reads the backbone's alone/);
    expect(JSON.parse(readFileSync(path.join(dir, 'some/model/model.json'), 'utf8')).backbone.second).toBeUndefined();
    expect(JSON.parse(readFileSync(path.join(dir, 'some/metrics.json'), 'utf8')).secondBackbone).toBeUndefined();
  });

  it('takes network names that are also names of an object\'s built-in properties as any other name', async () => {
    // Looked up among the installed models, "constructor" or "__proto__" must find none.
    const lines = data.X.map((_, i) => JSON.stringify({ ...JSON.parse(withSecond(i)), backbone: 'constructor', secondEmbedding: { backbone: '__proto__', embedding: aux(i) } }));
    writeFileSync(path.join(dir, 'proto.jsonl'), lines.join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'proto.jsonl', '--out', 'proto', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], io), io.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(path.join(dir, 'proto/model/model.json'), 'utf8'));
    expect(bundle.backbone).toMatchObject({ name: 'constructor', weightsSha256: null, second: { name: '__proto__', dim: 20, weightsSha256: null } });
  });

  it('keeps labels, subjects and column values named like built-in properties ("__proto__", "constructor") as any other', async () => {
    const odd = ['__proto__', 'constructor', 'hasOwnProperty'];
    const rows = data.X.map((_, i) => `${photoPath(i)},${data.subjects[i] === data.subjects[0] ? '__proto__' : data.subjects[i]},${data.y[i] ? '__proto__' : 'constructor'},${odd[[...new Set(data.subjects)].indexOf(data.subjects[i]) % 3]}`);
    writeFileSync(path.join(dir, 'proto.csv'), ['path,subject,label,source', ...rows].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'proto.csv', '--embeddings', 'pooled.jsonl', '--positive', '__proto__', '--validate-by', 'source', '--out', 'proto-labels', '--folds', '3', '--repeats', '1', '--bootstrap', '20', '--permutations', '0', '--quiet'], io), io.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'proto-labels/metrics.json'), 'utf8'));
    expect(Object.keys(metrics.data.summary.byClass).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(metrics.bySubgroup.source).sort()).toEqual([...odd].sort());
    expect(Object.keys(metrics.sites.bySite).sort()).toEqual([...odd].sort());
    expect(readFileSync(path.join(dir, 'proto-labels/predictions.csv'), 'utf8')).toMatch(/\n[^,\n]*,__proto__,(__proto__|constructor),/);
  });

  it("keeps the training warnings in the bundle without the training patients' photo paths or subject ids; the report names them", async () => {
    // Two people's photos with one vector: a near-duplicate across subjects.
    const other = data.subjects.findIndex((s) => s !== data.subjects[0]);
    const lines = data.X.map((_, i) => record(i, BACKBONE, i === other ? data.X[0] : data.X[i]));
    writeFileSync(path.join(dir, 'copied.jsonl'), lines.join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'copied.jsonl', '--out', 'copied', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], io), io.stderr).toBe(0);
    const warnings: string[] = JSON.parse(readFileSync(path.join(dir, 'copied/model/model.json'), 'utf8')).training.warnings;
    expect(warnings.filter((w) => w.includes('two photos of different people were near-identical'))).toHaveLength(1);
    for (const name of [photoPath(0), photoPath(other), data.subjects[0], data.subjects[other]]) expect(warnings.join(' ')).not.toContain(name);
    expect(readFileSync(path.join(dir, 'copied/report.html'), 'utf8')).toContain(esc(photoPath(other)));
  });

  it('groups ages written in years into bands in the subgroup tables, and keeps ages written as words', async () => {
    const people = [...new Set(data.subjects)];
    const years = ['0.5', '1', '3', '5.9', '6', '11', '12', '17.5', '18', '42'];
    const ageOf = (i: number) => years[people.indexOf(data.subjects[i]) % years.length];
    writeFileSync(path.join(dir, 'ages.csv'), ['path,subject,label,age', ...data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'},${ageOf(i)}`)].join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'ages.csv', '--embeddings', 'pooled.jsonl', '--out', 'ages', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], io), io.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'ages/metrics.json'), 'utf8'));
    expect(Object.keys(metrics.bySubgroup.age).sort()).toEqual(['0 to <2 years', '12 to <18 years', '18+ years', '2 to <6 years', '6 to <12 years']);
    // The report lists the bands in age order.
    const report = readFileSync(path.join(dir, 'ages/report.html'), 'utf8');
    const at = (band: string) => report.indexOf(`age = ${band.replace('<', '&lt;')}: per photo`);
    const bands = ['0 to <2 years', '2 to <6 years', '6 to <12 years', '12 to <18 years', '18+ years'];
    expect(bands.map(at).every((k, i, all) => k > 0 && (i === 0 || k > all[i - 1]))).toBe(true);
    writeFileSync(path.join(dir, 'age-words.csv'), ['path,subject,label,age', ...data.X.map((_, i) => `${photoPath(i)},${data.subjects[i]},${data.y[i] ? 'vcfs' : 'control'},${Number(ageOf(i)) < 18 ? 'child' : 'adult'}`)].join('\n') + '\n');
    expect(await main(['study', '--manifest', 'age-words.csv', '--embeddings', 'pooled.jsonl', '--out', 'age-words', '--folds', '3', '--repeats', '1', '--bootstrap', '0', '--permutations', '0', '--quiet'], memoryIO(dir))).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(path.join(dir, 'age-words/metrics.json'), 'utf8')).bySubgroup.age).sort()).toEqual(['adult', 'child']);
  });

  it('refuses second vectors that name a network installed here with another dimension', async () => {
    writeFileSync(path.join(dir, 'dlib20.jsonl'), data.X.map((_, i) => JSON.stringify({ ...JSON.parse(record(i)), secondEmbedding: { backbone: 'dlib-resnet', embedding: aux(i) } })).join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'dlib20.jsonl', '--out', 'dlib20', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: The second embeddings in dlib20\.jsonl name network "dlib-resnet" but have 20 dimensions; the "dlib-resnet" installed here gives 128/);
  });

  it('refuses second vectors of two networks or two lengths, and a malformed one, naming the line', async () => {
    const lines = data.X.map((_, i) => withSecond(i));
    lines[3] = JSON.stringify({ ...JSON.parse(lines[3]), secondEmbedding: { backbone: 'third-net', embedding: aux(3) } });
    lines[4] = JSON.stringify({ ...JSON.parse(lines[4]), secondEmbedding: { backbone: AUX, embedding: aux(4).slice(0, 5) } });
    lines[5] = JSON.stringify({ ...JSON.parse(lines[5]), secondEmbedding: [1, 2] });
    lines[6] = JSON.stringify({ ...JSON.parse(lines[6]), secondEmbedding: { backbone: AUX, embedding: [0, 0, 0] } });
    writeFileSync(path.join(dir, 'mixed.jsonl'), lines.join('\n') + '\n');
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'mixed.jsonl', '--out', 'mixed', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/line 4: the second embedding is "third-net"'s, of 20 values; the other records' are "site-net-aux"'s, of 20 \(first at line 1\)/);
    expect(io.stderr).toMatch(/line 5: the second embedding is "site-net-aux"'s, of 5 values/);
    expect(io.stderr).toMatch(/line 6: "secondEmbedding" is an array of 2 values; expected \{"backbone", "embedding"\}/);
    expect(io.stderr).toMatch(/line 7: the second embedding is all zeros/);
  });
});
