/**
 * Screening precomputed embeddings (`phenoface screen --model DIR --embeddings FILE.jsonl`): the
 * records of one person's photos, as `phenoface embed` wrote them, scored by a bundle and fused as
 * photo screening fuses them. No photo is read, so no pixel-level field (box, pose, heat map) is
 * given, and the quality warnings are those the records carry (`quality`, `face.turned`, `faces`); a
 * record whose vector is another's (the same photo under two names) is counted once. The
 * embeddings must come from the network the bundle was trained on: a vector of another network
 * lives in another space, and its score would mean nothing. A model whose embedding block also
 * reads a second network's vector takes it from the records' `secondEmbedding`.
 */
import { loadBundle, UNNAMED_BACKBONE, type LoadedBundle } from '../../classify/bundle.ts';
import { readEmbeddingBatch, type EmbeddingOrigin, type EmbeddingRecord } from '../../data/embedding-file.ts';
import { PhenofaceError, toErrorRecord } from '../../errors.ts';
import { embeddingOnlyModel, FittedFeatureModel } from '../../features/index.ts';
import type { ScreenPhoto, ScreenResult } from './result.ts';
import { photoWarnings } from './photo-warnings.ts';
import { warnOtherPeople, type ScreenedFace } from './same-person.ts';
import { checkedProbability, CountedPhotos, fusedResult } from './screener.ts';
import { qualityWarnings, type QualityFlag } from '../../pose/index.ts';
import { DEFAULTS, type QualityConfig } from '../../config.ts';

/**
 * E_BUNDLE when the embeddings cannot be the bundle's: another dimension, or another backbone when
 * both name one. Unnamed records are taken on their dimension alone; a file without a vector (only
 * error records) is not refused here.
 */
export function checkEmbeddingsMatchBundle(origin: EmbeddingOrigin, bundle: Pick<LoadedBundle, 'backbone' | 'embeddings'>): void {
  const expected = bundle.embeddings && bundle.backbone.name === UNNAMED_BACKBONE ? null : bundle.backbone.name;
  // A file of error records only (no photo had a usable face) holds no vector to compare: each
  // record is reported as the photo's error.
  if (origin.dimension !== bundle.backbone.dim && origin.dimension > 0) {
    throw new PhenofaceError('E_BUNDLE', `The embeddings in ${origin.file} have ${origin.dimension} dimensions${origin.backbone ? ` (${origin.backbone})` : ''}; the model was trained on ${bundle.backbone.dim}-dimensional ${bundle.backbone.name} embeddings. Embed the photos with the model's backbone.`);
  }
  if (expected !== null && origin.backbone !== null && origin.backbone !== expected) {
    throw new PhenofaceError('E_BUNDLE', `The embeddings in ${origin.file} are of backbone "${origin.backbone}"; the model was trained on "${expected}" embeddings, and vectors of two networks cannot be compared. Embed the photos with \`phenoface embed --backbone ${expected}\`.`);
  }
}

/**
 * A record's quality warnings, worded as photo screening words them: one for each of its `quality`
 * flags, and for a face that looks turned (`face.turned`) whether or not a flag also says so. The
 * face box's shorter side and the detector's score are quoted when the record's face has `embed`'s
 * form and they are what `embed` would have flagged (a side of at least 1 px below
 * `quality.minFaceSidePx`, a score from 0 up to `quality.minScore`); otherwise the warning is given
 * without them, since a record is a file anyone can edit and "face is small (5000 px)" or "unsure
 * (score 1.00)" would quote a contradiction back as if it had been measured.
 */
function recordWarnings({ face, quality = [] }: Pick<EmbeddingRecord, 'face' | 'quality'>, cfg: QualityConfig = DEFAULTS.quality): string[] {
  const flags: QualityFlag[] = face?.turned ? [...quality, 'turned'] : quality;
  const side = face ? Math.min(face.box.width, face.box.height) : 0;
  return qualityWarnings(flags, {
    ...(face?.turned ? { turned: face.turned } : {}),
    ...(side >= 1 && side < cfg.minFaceSidePx ? { faceSidePx: side } : {}),
    ...(face && face.score >= 0 && face.score < cfg.minScore ? { score: face.score } : {}),
  });
}

/**
 * Scores every record of `file` as one person's photos with the bundle in `modelDir`; a line that
 * is no usable record is that photo's `E_INPUT` record, and the others are scored.
 */
export async function screenEmbeddings(modelDir: string, file: string, opts: { prevalence?: number } = {}): Promise<ScreenResult> {
  const bundle = await loadBundle(modelDir, { embeddingsOnly: true });
  const { records, origin, problems } = await readEmbeddingBatch(file);
  checkEmbeddingsMatchBundle(origin, bundle);
  const model = bundle.features ? FittedFeatureModel.fromJSON(bundle.features) : embeddingOnlyModel(bundle.model);
  const needsPixels = model.features.filter((f) => f !== 'embedding');
  if (needsPixels.length) {
    throw new PhenofaceError('E_BUNDLE', `The model also learns from the ${needsPixels.join(' and ')} features, which come from the photos, not from embeddings. Screen the photos instead (\`phenoface screen <photos> --model DIR\`).`);
  }
  const second = bundle.backbone.second;
  if (second && origin.dimension > 0 && (origin.second?.backbone !== second.name || origin.second.dimension !== second.dim)) {
    const carried = origin.second ? `${origin.second.backbone}'s ${origin.second.dimension}-D vectors` : 'no second vector';
    throw new PhenofaceError('E_BUNDLE', `The model's embedding block also reads the ${second.name} network's ${second.dim}-D embedding beside the backbone's; the records of ${origin.file} carry ${carried}. Embed the photos with this phenoface (\`phenoface embed\` writes both networks' vectors), or screen the photos themselves (\`phenoface screen <photos> --model DIR\`).`);
  }
  const scoring: RecordScoring = { model, second, byView: bundle.metrics.byView, counted: new CountedPhotos() };
  // Each line's result, in the file's order: a line that is no usable record is that photo's E_INPUT.
  const lines: { line: number; photo: ScreenPhoto }[] = problems.map((p) => ({ line: p.line ?? 0, photo: { path: p.path ?? `line ${p.line}`, error: { code: 'E_INPUT', message: `${origin.file}, ${p.message}.` } } }));
  const faced: (ScreenedFace & { photo: ScreenPhoto })[] = [];
  for (const r of records.values()) {
    const photo = scoredRecord(r, scoring);
    lines.push({ line: r.line, photo });
    if (photo.probability !== undefined) faced.push({ photo, vector: r.embedding!, ...(r.view ? { view: r.view } : {}) });
  }
  warnOtherPeople(faced, bundle.backbone.name);
  return fusedResult(bundle, lines.sort((a, b) => a.line - b.line).map((l) => l.photo), scoring.counted, opts.prevalence);
}

/** What scoring a record needs: the model, the second network it reads, the per-view figures its advice quotes, and the photos counted so far. */
interface RecordScoring {
  model: FittedFeatureModel;
  second: LoadedBundle['backbone']['second'];
  byView: LoadedBundle['metrics']['byView'];
  counted: CountedPhotos;
}

/** One record's result, in file order: its score and warnings, or why it has none. */
function scoredRecord(r: EmbeddingRecord, { model, second, byView, counted }: RecordScoring): ScreenPhoto {
  if (!r.embedding) return { path: r.path, error: r.error! };
  if (second && !r.secondEmbedding) {
    return { path: r.path, error: { code: 'E_INPUT', message: `The record at line ${r.line} carries no ${second.name} vector (secondEmbedding), which the model reads beside the backbone's.` } };
  }
  let p: number;
  try {
    p = checkedProbability(model.predictProba([{ embedding: r.embedding, ...(second ? { secondEmbedding: r.secondEmbedding } : {}), ...(r.view ? { view: r.view } : {}) }])[0]);
  } catch (err) {
    return { path: r.path, error: toErrorRecord(err) };
  }
  // A record of a photo already counted (the same photo under another name) is shown but counted once, as in photo screening.
  const copy = counted.count(r.path, r.embedding, p);
  return { path: r.path, probability: Math.round(p * 1e4) / 1e4, ...(r.view ? { view: r.view } : {}), warnings: [...photoWarnings(recordWarnings(r), r.view, byView, r.faces ?? 1, r.face?.turned !== undefined || r.quality?.includes('turned') === true), ...(copy ? [copy] : [])] };
}
