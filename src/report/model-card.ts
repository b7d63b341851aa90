/**
 * The model card (`MODEL_CARD.md`), the short human-readable account that travels with a model
 * bundle: what it is, what it is for, how well it did in cross-validation, what it was trained on,
 * how its scores are explained, and its limitations (Mitchell et al., "Model Cards for Model
 * Reporting", 2019). Headed by the no-evidence statement when the model's AUC interval reaches 0.5.
 */
import type { ModelBundle } from '../classify/bundle.ts';
import { noEvidenceStatement, type ValidatedRate } from '../evaluate/post-test.ts';
import { informativeTopK } from '../evaluate/ranking.ts';
import { secondNetworkClause } from '../explain/scope.ts';
import { modelReads, readsBackbone } from '../features/describe.ts';
import type { MeasurementNorms } from '../features/measurements.ts';

function fmt(v: unknown): string {
  const e = v as { value?: number | null; ci95?: [number, number] | null } | undefined;
  if (!e || e.value === null || e.value === undefined) return 'n/a';
  return `${e.value.toFixed(3)}${e.ci95 ? ` (95% CI ${e.ci95[0].toFixed(3)}-${e.ci95[1].toFixed(3)})` : ''}`;
}

/**
 * A short human-readable model card, headed by the no-evidence statement when the per-person AUC's
 * interval reaches 0.5 (the card is what travels with the model when the report does not).
 */
export function modelCard(b: ModelBundle): string {
  const s = b.metrics.subject as Record<string, unknown>;
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
    '## Cross-validated performance (per person)',
    `- AUC ${fmt(s.auc)}`,
    `- Sensitivity ${fmt(s.sensitivity)}, specificity ${fmt(s.specificity)}: each outer fold's model at the threshold its own training folds chose, as this model's ${b.thresholds.subject.toFixed(3)} was chosen on all the data`,
    '',
    ...rankingCard(b),
    '## Training data',
    `${b.training.subjectsUsed} people, ${b.training.photosUsed} photos (data hash ${b.training.datasetHash.slice(0, 16)}...).`,
    '',
    ...normsCard(b.measurementNorms),
    ...explanationCard(b),
    '## Limitations',
    ...b.limitations.map((l) => `- ${l}`),
    '',
  ].join('\n');
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
