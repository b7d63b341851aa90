/**
 * The model card (`MODEL_CARD.md`), the short human-readable account that travels with a model
 * bundle: what it is, what it is for, how well it did in cross-validation, what it was trained on,
 * how its scores are explained, and its limitations (Mitchell et al., "Model Cards for Model
 * Reporting", 2019). Headed by the no-evidence statement when the model's AUC interval reaches 0.5.
 * Its figures are the report's, formatted as the report formats them: per person and per photo,
 * each with its interval, and said to be the study's own cross-validation, not an external validation.
 */
import type { ModelBundle } from '../classify/bundle.ts';
import type { CrossValidationResult, PermutationResult } from '../evaluate/crossval.ts';
import { permutationFloorNote } from '../evaluate/permutation.ts';
import { boundPredictiveNote, noEvidenceStatement, prevalenceText, type ValidatedRate } from '../evaluate/post-test.ts';
import { informativeTopK } from '../evaluate/ranking.ts';
import { secondNetworkClause } from '../explain/scope.ts';
import { modelReads, readsBackbone } from '../features/describe.ts';
import type { MeasurementNorms } from '../features/measurements.ts';
import { figureText, finePercent, SINGLE_VALUE_CI } from './index.ts';

/** An estimate with its 95% interval, each number as the report prints it (`pct` as in {@link figureText}). */
function fmt(v: unknown, pct: boolean | 'fine' = false): string {
  const e = v as ValidatedRate | undefined;
  if (!e || e.value === null || e.value === undefined) return 'n/a';
  const f = (x: number) => figureText(x, 3, pct);
  // An interval of one value (an AUC of 1 in every resample of a few people) is no measured certainty.
  const single = e.ci95 && e.ci95[0] === e.ci95[1] ? `; every resample alike, not a certainty: ${SINGLE_VALUE_CI}` : '';
  return `${f(e.value)} ${e.ci95 ? `(95% CI ${f(e.ci95[0])}-${f(e.ci95[1])}${single})` : '(no 95% CI)'}`;
}

/**
 * What the card says of the explanation files the study wrote beside the bundle: the control
 * reference's note (`referenceCardNote`, explain/reference.ts) and, when the study's checks of its
 * heat maps failed or could not be measured, that sentence (`heatMapChecksNote`, explain/heat-scale.ts).
 */
export interface CardExplanation {
  referenceNote?: string;
  checksNote?: string;
}

/** What the card states of the study that `model.json` does not keep: metrics.json's `options` (the prevalence) and `permutation`. */
export interface CardStudy {
  options: Pick<CrossValidationResult['options'], 'folds' | 'repeats' | 'prevalence'>;
  permutation: Pick<PermutationResult, 'p' | 'nulls'> | null;
}

/** One level's figures as the bundle keeps them (`metrics.subject`, `metrics.photo`). */
type CardLevel = Record<string, unknown> & { n?: { units: number; positive: number; negative: number } };

/**
 * A short human-readable model card, headed by the no-evidence statement when the per-person AUC's
 * interval reaches 0.5 (the card is what travels with the model when the report does not). With
 * `study` (what `study` passes), it also gives the PPV and NPV at the study's prevalence and the
 * permutation test.
 */
export function modelCard(b: ModelBundle, study?: CardStudy, explanation: CardExplanation = {}): string {
  const s = b.metrics.subject as CardLevel;
  const evidence = noEvidenceStatement(s.auc as ValidatedRate | undefined);
  return [
    `# Phenoface model ${b.id}${b.synthetic ? ' (SYNTHETIC DEMO - not a clinical model)' : ''}`,
    '',
    // Before anything else: a reader of a card with an AUC of 0.68 takes it for a working test.
    ...(evidence ? [`> **${evidence}**`, ''] : []),
    `Created ${b.createdAt} by Phenoface ${b.phenofaceVersion}. Positive class: \`${b.positive}\`; negative: \`${b.negative}\`.`,
    `Reads: ${modelReads(b)}.`,
    b.features
      ? featureClassifierLine(b, b.features)
      : `Classifier: ${b.classifier.name} ${JSON.stringify(b.classifier.hyper)} on ${b.backbone.name} embeddings (${b.backbone.dim}-D, ${b.backbone.weightsSha256 ? `weights sha256 ${b.backbone.weightsSha256.slice(0, 12)}...` : 'weights not installed here'}).`,
    ...(b.features?.selection ? [`Representation chosen by the inner subject-grouped CV of all the training photos: ${b.features.selection.chosen.join('+')} taken${b.features.selection.kept && b.features.selection.kept.join() !== b.features.selection.chosen.join() ? `, of which the stack weighs ${b.features.selection.kept.join('+')}` : ''} (mean photo log-loss of out-of-fold probabilities: ${b.features.selection.candidates.map((c) => `${c.features.join('+')} ${c.logLoss.toFixed(3)}`).join(', ')}).`] : []),
    ...(b.embeddings ? [`Trained on precomputed embeddings: ${b.embeddings.file} (sha256 ${b.embeddings.sha256.slice(0, 12)}..., ${b.embeddings.records} records); no photo was read.`] : []),
    '',
    '## Intended use',
    b.intendedUse,
    '',
    ...performanceCard(b, study),
    ...rankingCard(b),
    '## Training data',
    `${b.training.subjectsUsed} people${byClass(b, s)} and ${b.training.photosUsed} photos${byClass(b, b.metrics.photo)}, all of them in the cross-validation above and in this model's fit (data hash ${b.training.datasetHash.slice(0, 16)}...).`,
    '',
    ...normsCard(b.measurementNorms),
    ...explanationCard(b),
    // Before the limitations: the card's "Explanations" would otherwise read as established.
    ...(explanation.checksNote ? ['## Explanation checks', `${explanation.checksNote} \`screen --explain\` and the web app say so beside their regions.`, ''] : []),
    ...(explanation.referenceNote ? ['## Explanation reference', explanation.referenceNote, ''] : []),
    '## Limitations',
    ...b.limitations.map((l) => `- ${l}`),
    '',
  ].join('\n');
}

/**
 * The cross-validated figures per person and per photo, each with its interval, and what they are:
 * the study's own estimates on the people it was trained on, not an external validation.
 */
function performanceCard(b: ModelBundle, study?: CardStudy): string[] {
  const o = study?.options;
  const how = o ? ` (subject-grouped ${o.folds}-fold cross-validation, ${o.repeats === 1 ? '1 repeat' : `${o.repeats} repeats; figures are means over the repeats`})` : '';
  return [
    '## Cross-validated performance',
    `These are the study's own cross-validated figures on its own ${b.training.subjectsUsed} people, not an external validation: each person was scored by a model trained without them${how}, but all of them come from the data this model was trained on, and no other people, cameras or clinics were tested. Intervals are 95%, from resampling people (for sensitivity and specificity, Wilson's interval on the counts where that is wider).`,
    '',
    ...levelCard(b, 'person', b.metrics.subject as CardLevel, b.thresholds.subject, study),
    ...levelCard(b, 'photo', b.metrics.photo as CardLevel, b.thresholds.photo, study),
    ...(study ? [`- Permutation test (labels permuted between people, the whole cross-validation re-run for each permutation; statistic: AUC per person): ${study.permutation ? `p = ${study.permutation.p.toFixed(4)} against ${study.permutation.nulls.length} permutations${permutationFloorNote(study.permutation.p, study.permutation.nulls.length)}` : 'not run (`--permutations 0`)'}`] : []),
    '',
  ];
}

/**
 * One level's figures: AUC; sensitivity and specificity as percentages at the training folds'
 * thresholds; PPV and NPV at the study's prevalence, one of exactly 0 or 1 marked as not a certainty.
 */
function levelCard(b: ModelBundle, level: 'person' | 'photo', m: CardLevel, threshold: number, study?: CardStudy): string[] {
  const units = level === 'person' ? 'people' : 'photos';
  const counted = m.n ? `: ${m.n.units} ${units}${byClass(b, m)}` : '';
  const predictive = (which: 'ppv' | 'npv') => {
    const e = m[which] as ValidatedRate | undefined;
    const note = boundPredictiveNote(which, e?.value ?? null, Boolean(e?.ci95));
    const ci = e?.ci95 ? `(95% CI ${finePercent(e.ci95[0])}-${finePercent(e.ci95[1])})` : '(no 95% CI)';
    return { text: `${which.toUpperCase()} ${note ? `not ${e!.value === 1 ? '100%' : '0%'} ${ci}` : fmt(e, 'fine')}`, note };
  };
  const [ppv, npv] = [predictive('ppv'), predictive('npv')];
  return [
    `- Per ${level}${counted}${level === 'person' ? "; a person's score is the mean of their photos' scores" : ''}`,
    `  - AUC ${fmt(m.auc)}`,
    `  - Sensitivity ${fmt(m.sensitivity, true)}, specificity ${fmt(m.specificity, true)}: each outer fold's model at the threshold its own training folds chose, as this model's ${threshold.toFixed(3)} was chosen on all the data`,
    ...(study ? [
      `  - ${ppv.text}, ${npv.text} at a prevalence of ${prevalenceText(study.options.prevalence)} (\`--prevalence\`), by Bayes' rule from that sensitivity and specificity`,
      ...[ppv.note, npv.note].filter((n) => n !== undefined).map((n) => `  - ${n}`),
    ] : []),
  ];
}

/** A level's count by class, as " (9 vcfs, 9 control)" (empty when the bundle keeps no counts). */
function byClass(b: ModelBundle, m: unknown): string {
  const n = (m as CardLevel).n;
  return n ? ` (${n.positive} ${b.positive}, ${n.negative} ${b.negative})` : '';
}

/**
 * The classifier line of a model with feature blocks: how the blocks are combined, and the
 * backbone's weights only when the model reads something the backbone computes.
 */
function featureClassifierLine(b: ModelBundle, f: NonNullable<ModelBundle['features']>): string {
  const blocks = f.features.join(' + ');
  const combined = f.stacker ? `one classifier per block (${blocks}), stacked by logistic regression on their logits` : `one block, ${blocks}`;
  const sha = b.backbone.weightsSha256?.slice(0, 12);
  const weights = sha ? `weights sha256 ${sha}...` : 'weights not installed here';
  const second = b.backbone.second && f.features.includes('embedding') ? `, with ${b.backbone.second.name}'s ${b.backbone.second.dim}-D embedding beside its own` : '';
  const network = readsBackbone(b) ? `; ${b.backbone.name} ${weights}${second}` : '';
  return `Classifier: ${b.classifier.name} (${combined})${network}.`;
}

/** The model card's lines on the measurement norms: whom the z-scores compare with. */
function normsCard(norms: MeasurementNorms | undefined): string[] {
  if (!norms) return [];
  const views = Object.entries(norms.views).map(([view, byName]) => {
    const people = Math.max(...Object.values(byName ?? {}).map((n) => n.subjects));
    return `${view}: ${Object.keys(byName ?? {}).length} measurements, up to ${people} control people`;
  });
  return [
    '## Measurements',
    `Anthropometric z-scores in \`screen\` are against ${norms.population}, not population norms; HPO terms are attached beyond ±${norms.hpoZ} SD.`,
    `Norms per view: ${views.length ? views.join('; ') : 'none (too few control people with landmarks)'}.`,
    '',
  ];
}

/**
 * The model card's lines on what explains a photo's score: heat maps for the embedding's part,
 * exact contributions by region for a geometry part (`screen`'s `geometryRegions`).
 */
function explanationCard(b: ModelBundle): string[] {
  const blocks = b.features?.features ?? ['embedding'];
  const lines = [
    ...(blocks.includes('embedding') ? [`- Heat maps (\`screen --explain\`) show where the embedding's part of the score comes from${b.backbone.second ? `: ${secondNetworkClause(b.backbone.name, b.backbone.second.name)}` : ''}.`] : []),
    ...(blocks.includes('geometry') ? ["- `geometryRegions` in `screen --json` split the geometry part's contribution to the log-odds exactly among the facial regions, relative to the training photos' mean face."] : []),
    ...(blocks.includes('regions') ? ['- The region-pooled maps have no explanation of their own; their part of the score is in neither list.'] : []),
  ];
  return ['## Explanations', ...lines, ''];
}

/** The model card's lines on a ranking bundle's differential (none for a binary bundle). */
function rankingCard(b: ModelBundle): string[] {
  if (!b.ranking) return [];
  const m = b.ranking.metrics as { subject?: Record<string, unknown>; chance?: { uniform?: Record<string, number> } };
  const gallery = (b.ranking.classifier.params as { family?: string }).family === 'gallery';
  // Top-3 of three classes is 1 by construction: shown, it would read as a result.
  const ks = informativeTopK(b.ranking.classes.length).filter((k) => k <= 3);
  const figures = ks.map((k) => `${k === 1 ? 'Top-1 per person' : `top-${k}`} ${fmt(m.subject?.[`top${k}`])}`).join(', ');
  const chance = ks.map((k) => m.chance?.uniform?.[`top${k}`]?.toFixed(3) ?? 'n/a').join(' and ');
  return [
    `## Ranked differential (${b.ranking.classes.length} classes: ${b.ranking.classes.join(', ')})`,
    `- ${figures} (a random ranking: ${chance})`,
    `- The binary figures above are \`${b.positive}\` against all the other classes pooled.`,
    ...(gallery ? ['- The ranking model is a gallery: it holds one standardised embedding per training person.'] : []),
    '',
  ];
}
