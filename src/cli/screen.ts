/**
 * `phenoface screen <photos...> --model DIR/model [--json] [--explain DIR [--cam NAME]]`: photos of
 * one person -> per-photo and fused probability, view and quality warnings (contract v1); with
 * `--explain`, each photo's regions and heatmaps from the map `--cam` names (default: contrastive).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { checkOutput, type OutputGuard } from '../data/output.ts';
import { DEFAULTS } from '../config.ts';
import { GEOMETRY_NEGLIGIBLE_LOGODDS, geometryNegligible, regionLabel, REGION_RANKING_NOTE } from '../explain/regions.ts';
import { fileExplainer, heatmapPaths, SCREEN_CAMS, type ScreenCam } from '../workflows/screen/explainer.ts';
import { Screener, type PhotoExplainer, type ScreenResult } from '../workflows/screen/screener.ts';
import { belowPhotoThreshold, regionsFromHeatMap } from '../workflows/screen/result.ts';
import { heatMapCaption } from '../explain/heat-scale.ts';
import { chanceRangeEndNote, likelihoodRatioText, prevalenceText, probabilityText } from '../evaluate/post-test.ts';
import { zText } from '../features/measurements.ts';
import { signedFixed } from '../math/decimal.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine, type ArgValues } from './args.ts';
import { screenEmbeddings } from '../workflows/screen/embeddings.ts';
import { expandInputs, folderInputs, type InputItem } from './inputs.ts';
import { EXIT, type Command } from './io.ts';
import { printable, printableLine } from './format.ts';

/** `phenoface screen`'s options. */
export const SCREEN = defineCommand({
  name: 'screen',
  synopsis: '<photos or folder...> | --embeddings FILE.jsonl',
  description: [
    "Screens photos of one person with a trained model: each photo's score, view and quality warnings,",
    'and the person\'s result: the call, what it means at a prevalence, and the fused score (a classifier',
    'score, not a chance of disease). A screening aid, not a diagnosis.',
  ].join('\n'),
  args: {
    model: { type: 'string', short: 'm', placeholder: 'DIR/model', required: true, description: 'the model/ folder written by `phenoface study`' },
    json: { type: 'boolean', description: 'print the result as one JSON object (contract v1)' },
    explain: { type: 'string', placeholder: 'DIR', defaultText: 'no explanation', description: "write each photo's heatmaps to DIR (never over an earlier screening's) and list its top regions" },
    cam: { type: 'string', placeholder: 'NAME', label: 'explanation map', values: SCREEN_CAMS, default: DEFAULTS.explain.screen.cam, description: 'the map --explain draws' },
    embeddings: { type: 'string', placeholder: 'FILE.jsonl', inSynopsis: true, defaultText: 'read the photos', description: "score precomputed embeddings (`phenoface embed`'s JSON lines, one person's photos) instead of photos" },
    prevalence: { type: 'number', placeholder: 'P', min: 1e-9, max: 0.999, default: DEFAULTS.evaluate.prevalence, description: "the pre-test chance the result's chance assumes (e.g. a referral clinic's share of affected patients)" },
  },
  examples: ['phenoface screen photos/patient-1/ --model results/model --explain heatmaps/', 'phenoface screen --model results/model --embeddings patient-1.jsonl --json'],
});

const USAGE = usageLine(SCREEN);

/** A score, a chance or a threshold as a percentage that does not round to a certainty (`probabilityText`). */
const pct = (v: number): string => probabilityText(v);

/** A rate, or an end of a range, where exactly 0% or 100% can be what was counted or computed. */
const ratePct = (v: number): string => probabilityText(v, true);

/**
 * The person's result as a clinician should read it: the call at the threshold and the model's
 * validated rates first, then the chance at the stated prevalence, then the score, labelled as one.
 */
export function subjectSummary(result: ScreenResult): string[] {
  const s = result.subject;
  if (s.probability === null) return ['No usable photo: no result.'];
  const above = s.label === result.model.positive;
  const lines = [`Result: ${above ? 'ABOVE' : 'below'} the model's threshold (${result.model.positive} vs ${result.model.negative}), from ${s.photos} photo${s.photos === 1 ? '' : 's'}.`];
  if (s.evidenceNote) lines.push(`  ${s.evidenceNote}`);
  if (s.sensitivity !== undefined && s.specificity !== undefined) {
    const ci = (v?: [number, number]) => (v ? ` (95% CI ${ratePct(v[0])}-${ratePct(v[1])})` : '');
    lines.push(`  In cross-validation, models built as this one was (each at the threshold its training folds chose) flagged ${ratePct(s.sensitivity)}${ci(s.sensitivityCi95)} of affected people and cleared ${ratePct(s.specificity)}${ci(s.specificityCi95)} of unaffected people (per person).`);
  }
  if (s.chance !== undefined && s.chance !== null && s.prevalence !== undefined) {
    const range = s.chanceRange ? ` (${ratePct(s.chanceRange[0])} to ${ratePct(s.chanceRange[1])} over those rates' 95% intervals)` : '';
    const at = `at a prevalence of ${prevalenceText(s.prevalence)} (--prevalence); likelihood ratio ${likelihoodRatioText(s.likelihoodRatio, s.likelihoodRatioRange)}`;
    if (s.chanceNote && s.chanceRange) lines.push(`  Chance of ${result.model.positive} given this result: between ${ratePct(s.chanceRange[0])} and ${ratePct(s.chanceRange[1])} over the rates' 95% intervals, ${at}. ${s.chanceNote}`);
    else if (s.chanceNote) lines.push(`  Chance of ${result.model.positive} given this result: not known, ${at}. ${s.chanceNote}`);
    else lines.push([`  Chance of ${result.model.positive} given this result: ${pct(s.chance)}${range}, ${at}.`, chanceRangeEndNote(above, s.chanceRange)].filter(Boolean).join(' '));
  }
  // After the chance, whose "those rates" are the per-person ones above it.
  if (s.photosNote) lines.push(`  ${s.photosNote}`);
  const spread = s.interval ? `; photos' interval ${pct(s.interval[0])} to ${pct(s.interval[1])}` : '';
  lines.push(`  Score ${pct(s.probability)} (a classifier score, not a chance of disease; threshold ${pct(s.threshold)})${spread}.${s.intervalNote ? ` ${s.intervalNote}` : ''}`);
  if (result.differential) {
    lines.push(`Ranked differential: ${result.differential.map((d, i) => `${i + 1}. ${d.label} ${pct(d.probability)}`).join(', ')}.`);
    if (result.differentialEvidenceNote) lines.push(`  ${result.differentialEvidenceNote}`);
    if (result.differentialNote) lines.push(`  ${result.differentialNote}`);
  }
  return [...lines, ...measurementSummary(result)];
}

/**
 * One line on the person's measurements with HPO terms (z against the study's controls), when
 * there are measurements; where the person has none, the single photos that do, so that a photo
 * beyond the threshold is not hidden by the person's mean.
 */
function measurementSummary({ subject: s, photos }: ScreenResult): string[] {
  if (!s.measurements?.length) return [];
  const beyond = s.measurements.filter((m) => m.hpo.length > 0);
  const terms = beyond.map((m) => `${m.label} z ${zText(m.z)} (${m.hpo.map((t) => `${t.label} ${t.id}`).join(', ')})`).join('; ');
  const inPhotos = photos.flatMap((p) => (p.measurements ?? []).filter((m) => m.hpo.length > 0).map((m) => `${m.label} z ${zText(m.z)} in ${p.path}`));
  const none = `none of the person's with HPO terms${inPhotos.length ? ` (single photos: ${inPhotos.join('; ')})` : ''}`;
  return [`  Measurements: ${beyond.length ? terms : none}. ${s.measurementsNote ?? ''}`.trimEnd()];
}

/**
 * What `--explain DIR` must keep clear of: the photos screened, the model folder and the photo
 * folders walked. E_USAGE when DIR, or a heatmap file it would hold, is or lies in one of them.
 */
async function checkExplainFolder(explain: string, model: string, items: InputItem[], positionals: string[], cwd: string): Promise<OutputGuard> {
  const guard: OutputGuard = {
    option: '--explain',
    shown: explain,
    inputs: items.map((it) => ({ abs: it.abs, shown: it.path })),
    inputFolders: [{ abs: path.resolve(cwd, model), shown: model }, ...(await folderInputs(positionals, cwd))],
  };
  const dir = path.resolve(cwd, explain);
  await checkOutput(dir, guard);
  for (const [i, item] of items.entries()) {
    for (const file of Object.values(heatmapPaths(dir, item.path, i))) {
      const shown = path.join(explain, path.basename(file));
      await checkOutput(file, { ...guard, shown });
      // Another screening's heat map (perhaps another patient's) is never replaced.
      if (await stat(file).then(() => true, () => false)) throw usageError(`--explain "${explain}" already holds "${shown}", which this screening would replace. Give an empty or new folder.`, USAGE);
    }
  }
  return guard;
}

/**
 * One photo's line of the human-readable result: its score, view and warnings, the regions its
 * score comes from (the heat map's shares, or the geometry's where the map is geometry), the
 * geometry part's three largest contributions in log-odds when the model has one, and its heatmap.
 */
export function photoLine(p: ScreenResult['photos'][number], photoThreshold?: number): string {
  if (p.error) return `  ${printableLine(p.path)}: ${p.error.code}: ${printableLine(p.error.message)}`;
  const negligible = p.geometryRegions && geometryNegligible(p.geometryRegions);
  const geometry = p.geometryRegions && !negligible && [...p.geometryRegions].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution)).slice(0, 3);
  return `  ${printableLine(p.path)}: score ${pct(p.probability!)}, ${p.view}` +
    (p.warnings?.length ? ` (${p.warnings.join('; ')})` : '') +
    (p.regions ? regionsText(p.regions, belowPhotoThreshold(p, photoThreshold)) : '') +
    (geometry && geometry.length ? `; geometry ${geometry.map((g) => `${regionLabel(g.name)} ${signedFixed(g.contribution, 2)}`).join(', ')} (log-odds)` : '') +
    (negligible ? `; geometry: every region under ${GEOMETRY_NEGLIGIBLE_LOGODDS} log-odds (negligible)` : '') +
    (p.heatmap ? `; heatmap ${p.heatmap}` : '');
}

/**
 * The regions a photo's score comes from, as "; score from Nose 36%, ...": the three largest shares
 * of the evidence raising it. A photo with no such evidence (every share 0: nothing lifts its score
 * above the study's controls) says so rather than rank zeros; a photo scored below the model's
 * photo threshold (`below`) says its shares are of what little raises it, since "score from the
 * nose" on a score near 0 reads as the nose being why.
 */
function regionsText(regions: NonNullable<ScreenResult['photos'][number]['regions']>, below: boolean): string {
  if (!regions.some((r) => r.share > 0)) return '; no region raises the score above the study\'s controls';
  const top = regions.slice(0, 3).map((r) => `${regionLabel(r.name)} ${(100 * r.share).toFixed(0)}%`).join(', ');
  return below ? `; below the photo threshold, what little raises the score comes from ${top}` : `; score from ${top}`;
}

/** The caveat on a heat map's region ranking, what part of the score the maps follow and the study's failed checks of them, once, when some photo's regions come from a heat map. */
export function regionRankingNote(result: Pick<ScreenResult, 'photos' | 'model'>): string[] {
  return result.photos.some(regionsFromHeatMap) ? [`Regions: ${[REGION_RANKING_NOTE, result.model.heatMapScope, result.model.heatMapChecks].filter(Boolean).join(' ')}`] : [];
}

/**
 * What the heat map files show, once, when some photo has one: the map's caption and its colour
 * scale (each distinct scale note once), since the PNG's colour bar carries no words.
 */
export function heatmapNoteLine(result: Pick<ScreenResult, 'photos'>): string[] {
  const drawn = result.photos.filter((p) => p.heatmap);
  if (!drawn.length) return [];
  const cams = [...new Set(drawn.map((p) => heatMapCaption(p.cam)))];
  const scales = [...new Set(drawn.flatMap((p) => (p.heatScale ? [p.heatScale.note] : [])))];
  return [`Heatmaps: ${[...cams, ...scales].join(' ')} In the files, the colour bar on the right runs from no evidence (bottom) to the top of the scale (top).`];
}

/** What the photos' geometry contributions are, and what a log-odds is, once, when some photo has them. */
export function geometryNoteLine(result: Pick<ScreenResult, 'photos'>): string[] {
  const note = result.photos.find((p) => p.geometryNote)?.geometryNote;
  return note ? [`Geometry: ${note}`] : [];
}

/** `screen --embeddings FILE`: the records scored as one person's photos; no photo, no explanation. */
async function screenEmbeddingFile(values: ArgValues<typeof SCREEN.args>, positionals: string[], io: Parameters<Command>[1]): Promise<number> {
  if (positionals.length > 0) throw usageError('Give photos or --embeddings, not both.', USAGE);
  if (values.explain) throw usageError('--explain draws heat maps on photos; --embeddings has none.', USAGE);
  const result = await screenEmbeddings(path.resolve(io.cwd, values.model!), path.resolve(io.cwd, values.embeddings!), { prevalence: values.prevalence });
  io.out(values.json ? JSON.stringify(result) + '\n' : printable([...subjectSummary(result), ...result.photos.map((p) => (p.error ? `  ${printableLine(p.path)}: ${p.error.code}: ${printableLine(p.error.message)}` : `  ${printableLine(p.path)}: score ${pct(p.probability!)}`)), result.disclaimer].join('\n')) + '\n');
  return result.photos.some((p) => p.error) ? EXIT.partial : EXIT.ok;
}

export const run: Command = async (argv, io) => {
  const { values, positionals, help, given } = parseCommand(SCREEN, argv);
  if (help) { io.out(helpText(SCREEN)); return EXIT.ok; }
  if (!values.model) throw usageError('No --model given (the model/ folder written by `phenoface study`).', USAGE);
  if (values.embeddings) return screenEmbeddingFile(values, positionals, io);
  if (positionals.length === 0) throw usageError('No photos given (or --embeddings FILE.jsonl).', USAGE);
  if (given.has('cam') && !values.explain) throw usageError('--cam chooses the map of --explain: give --explain DIR too.', USAGE);
  const cam = values.cam as ScreenCam;
  const items = await expandInputs(positionals, io.cwd);
  const modelDir = path.resolve(io.cwd, values.model);
  // Refused before the model loads.
  const guard = values.explain ? await checkExplainFolder(values.explain, values.model, items, positionals, io.cwd) : undefined;
  const screener = await Screener.load(modelDir);
  let explain: PhotoExplainer | undefined;
  try {
    if (values.explain) {
      explain = await fileExplainer(screener, path.resolve(io.cwd, values.explain), { cam, guard });
    }
    const result = await screener.screen(items.map((it) => ({ name: it.path, path: it.abs, ...(it.refused ? { refused: it.refused } : {}) })), { explain, prevalence: values.prevalence });
    if (values.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      const lines = [
        ...(screener.info().synthetic ? ['SYNTHETIC MODEL (a demonstration trained on planted photos): this result means nothing about the person.'] : []),
        ...(result.model.warnings ?? []).map((w) => `WARNING: ${w}`),
        ...subjectSummary(result),
        ...result.photos.map((p) => photoLine(p, result.model.photoThreshold)),
        ...regionRankingNote(result),
        ...heatmapNoteLine(result),
        ...geometryNoteLine(result),
        result.disclaimer,
      ];
      io.out(printable(lines.join('\n')) + '\n');
    }
    return result.photos.some((p) => p.error) ? EXIT.partial : EXIT.ok;
  } finally {
    await explain?.dispose?.();
    await screener.close();
  }
};
