/**
 * Explanations for screening (`phenoface screen --explain DIR`, the web app): per photo, the
 * regions of one map ({@link SCREEN_CAMS}) and two overlays, on the aligned face and on the photo
 * itself, coloured on the study's scale shared across photos when the bundle has one for that map
 * (`explain-scale.json`), else on each photo's own, as the result's `heatScale` says. The CLI
 * writes the overlays as PNG files; the web app gets them as PNG data URLs.
 */
import path from 'node:path';
import { prepareOutputFolder, writeOutputFile, type OutputGuard } from '../../data/output.ts';
import { HEATMAP_SUFFIXES } from '../../data/manifest.ts';
import { PhenofaceError } from '../../errors.ts';
import { affineToDecoded, decodeImage, encodePng } from '../../image/index.ts';
import { photoInputs, type PhotoExplainer, type ScreenInput, type Screener } from './screener.ts';
import { geometryRegionShares } from './geometry.ts';
import type { ScreenPhoto } from './result.ts';
import type { EmbedResult } from '../../pipeline/pipeline.ts';
import type { RgbImage } from '../../types.ts';
import { DEFAULTS } from '../../config.ts';
import { classifierScorer, Explainer, rankedRegions, type FaceExplanation } from '../../explain/explainer.ts';
import { checkReferenceShape, loadReference, REFERENCE_FILE, type ExplainReference } from '../../explain/reference.ts';
import { evidenceHeat, heatMapChecksNote, heatScaleFor, type HeatScaleUsed, type StudyHeatScale } from '../../explain/heat-scale.ts';
import { loadHeatScale } from '../../explain/heat-scale-file.ts';
import { alignedOverlay, photoOverlay, pngDataUrl, type OverlayStyle } from '../../explain/overlay.ts';

/**
 * The maps `screen --explain` and the web app can draw, all of the final model's positive-class
 * score: `contrastive` (default), HiResCAM on the last 14x14 block against the study's mean
 * control map (`explain-reference.json` beside the bundle; without it, plain `hirescam`);
 * `hirescam`, HiResCAM on that block; `gradcam`, Grad-CAM on the last 7x7 block (Baek et al.'s
 * method); `gradcam-14x14`, Grad-CAM on the 14x14 block. On planted sets (`npm run bench:explain`)
 * only the contrastive map put the planted region first for >= 80% of correctly classified
 * positives; 7x7 Grad-CAM did for about a quarter.
 */
export const SCREEN_CAMS = ['contrastive', 'hirescam', 'gradcam', 'gradcam-14x14'] as const;

/** One of {@link SCREEN_CAMS}. */
export type ScreenCam = (typeof SCREEN_CAMS)[number];

/** A photo's explanation with its two overlay images. */
export interface PhotoOverlays {
  explanation: FaceExplanation;
  /** The map drawn (`contrastive` falls back to `hirescam` without the study's reference). */
  cam: ScreenCam;
  /** The colour scale the overlays were drawn on. */
  scale: HeatScaleUsed;
  aligned: RgbImage;
  photo: RgbImage;
}

/** What explains a screener's photos. */
interface ScreenExplainer {
  explainer: Explainer;
  scorer: ReturnType<typeof classifierScorer>;
  /** The map actually drawn. */
  cam: ScreenCam;
  /** The study's control map (contrastive HiResCAM), and the file it was read from. */
  reference?: { map: ExplainReference; file: string };
  /** The study's shared colour scale, when the bundle has one. */
  studyScale?: StudyHeatScale;
}

/** Options of the screening explainers. */
export interface ScreenExplainOptions extends Partial<OverlayStyle> {
  /** Longest side of the photo overlay in pixels (the photo is shrunk to it; default: the decoder's limit). */
  maxSidePx?: number;
  /** The map to draw (default `DEFAULTS.explain.screen.cam`). */
  cam?: ScreenCam;
}

/** E_USAGE unless `name` is one of {@link SCREEN_CAMS}. */
export function parseScreenCam(name: string): ScreenCam {
  if (!(SCREEN_CAMS as readonly string[]).includes(name)) throw new PhenofaceError('E_USAGE', `Unknown explanation map: "${name}". Should be one of: ${SCREEN_CAMS.join(', ')}.`);
  return name as ScreenCam;
}

/**
 * Builds the explainer of a screener's model (E_MODEL when its backbone or classifier cannot be
 * explained, or its scale file is malformed). Every map but `gradcam` needs the finer layer;
 * `contrastive` reads the study's control reference from the bundle folder.
 */
async function explainerOf(screener: Screener, cam: ScreenCam): Promise<ScreenExplainer> {
  const backbone = screener.pipeline.backbone;
  if (!backbone) throw new PhenofaceError('E_CONFIG', 'The screener has no backbone loaded: it cannot explain.');
  const explainer = Explainer.create(backbone);
  if (!screener.embeddingModel) throw new PhenofaceError('E_MODEL', `This model learns from ${screener.features.features.join('+')} without the embedding, which the heat maps differentiate, and without a linear geometry part to rank regions by: no heat map can explain it.`);
  const scorer = classifierScorer(screener.embeddingModel);
  const studyScale = await loadHeatScale(screener.bundle.dir, backbone.spec.name, screener.bundle.id);
  const base = { explainer, scorer, ...(studyScale ? { studyScale } : {}) };
  if (cam === 'gradcam') return { ...base, cam };
  await explainer.loadFineLayer();
  const layer = DEFAULTS.explain.fineLayer[backbone.spec.name];
  const reference = cam === 'contrastive' ? await loadReference(screener.bundle.dir, backbone.spec.name, layer, screener.bundle.id) : undefined;
  if (cam === 'contrastive' && !reference) return { ...base, cam: 'hirescam' };
  return { ...base, cam, ...(reference ? { reference: { map: reference, file: path.join(screener.bundle.dir, REFERENCE_FILE) } } : {}) };
}

/** A face's map on the backbone's finer layer, against the study's control map when there is one (E_MODEL when that map's shape is not the layer's). */
async function fineExplanation({ explainer, scorer, cam, reference }: ScreenExplainer, face: RgbImage): Promise<FaceExplanation> {
  const forward = await explainer.forwardFine(face);
  if (reference) checkReferenceShape(reference.map, forward.fine, reference.file);
  return explainer.explainFine(forward, scorer, cam === 'gradcam-14x14' ? 'gradcam' : 'hirescam', reference?.map.data);
}

/** Explains one embedded photo and draws both overlays (the photo is decoded again, shrunk to `maxSidePx`). */
async function overlaysOf(explaining: ScreenExplainer, screener: Screener, photo: EmbedResult, input: ScreenInput, opts: ScreenExplainOptions): Promise<PhotoOverlays> {
  const { explainer, scorer, cam, studyScale } = explaining;
  const face = photo.aligned.image;
  const explanation = cam === 'gradcam' ? (await explainer.explain([face], scorer))[0] : await fineExplanation(explaining, face);
  const source = input.bytes ?? input.path;
  if (source === undefined) throw new PhenofaceError('E_INPUT', `Photo "${input.name}" has neither bytes nor a path.`);
  const limits = screener.pipeline.config.image;
  const img = await decodeImage(source, opts.maxSidePx ? { ...limits, maxSidePx: Math.min(limits.maxSidePx, opts.maxSidePx) } : limits);
  // aligned.matrix maps full-size pixels; this decode holds `scale` pixels per full-size pixel.
  const matrix = affineToDecoded(photo.aligned.matrix, img);
  const heat = evidenceHeat(explanation, studyScale?.controlScore);
  const scale = heatScaleFor(heat, cam, studyScale);
  const style = { ...opts, top: scale.top };
  return {
    explanation,
    cam,
    scale,
    aligned: alignedOverlay(face, heat, style),
    photo: photoOverlay(img, matrix, heat, explanation.size, style),
  };
}

/**
 * A photo's explanation fields, given where its two overlays went (paths or data URLs): `regions`
 * (ranked by share, with HPO terms), `cam`, `heatScale`, `heatmap` and `heatmapAligned`.
 */
function photoFields(o: PhotoOverlays, heatmap: string, heatmapAligned: string): Partial<ScreenPhoto> {
  return { regions: rankedRegions(o.explanation.regions), cam: o.cam, heatScale: o.scale, heatmap, heatmapAligned };
}

/**
 * The explainer of a model that leaves the embedding out but has a linear geometry part (no heat map
 * can explain it): each photo's `regions` from its geometry contributions, `cam` `geometry`, no
 * overlays. Undefined for any other model. A photo whose geometry the model imputes as the mean
 * (no landmarks, or a view it has no columns for) gets no regions.
 */
function geometryExplainer(screener: Screener): PhotoExplainer | undefined {
  const explain = screener.geometry;
  if (screener.embeddingModel || !explain) return undefined;
  return async (photo) => geometryRegionShares(explain, photoInputs(photo)) ?? {};
}

/**
 * The explainer of a model that neither reads the embedding (which the heat maps differentiate)
 * nor has a linear geometry part (whose contributions rank regions): the photos are screened
 * without regions or heat maps, and the result's model warnings say why. Undefined for any other
 * model.
 */
function noExplainer(screener: Screener): PhotoExplainer | undefined {
  if (screener.embeddingModel || screener.geometry) return undefined;
  const explain: PhotoExplainer = async () => ({});
  explain.note = `This model learns from ${screener.features.features.join('+')} alone, without the embedding the heat maps follow and without a linear geometry part: no heat map or region ranking can explain its scores.`;
  return explain;
}

/** A file-name stem from a photo's name: its base name without extension, unsafe characters replaced. */
function stem(name: string): string {
  const base = path.basename(name).replace(/\.[^.]*$/, '');
  return base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'photo';
}

/**
 * The two overlay files of the photo named `name` at position `index` (from 0) of a screening:
 * `NN-<name>.heatmap.png` and `NN-<name>.heatmap-aligned.png` in `dir`, NN the 1-based position.
 * Folder walks skip those endings ({@link HEATMAP_SUFFIXES}), so heat maps written beside the
 * photos are not screened as more photos of the person.
 */
export function heatmapPaths(dir: string, name: string, index: number): { heatmap: string; heatmapAligned: string } {
  const base = path.join(dir, `${String(index + 1).padStart(2, '0')}-${stem(name)}`);
  const [photo, aligned] = HEATMAP_SUFFIXES;
  return { heatmap: `${base}${photo}`, heatmapAligned: `${base}${aligned}` };
}

/** Options of {@link fileExplainer}. */
export interface FileExplainOptions extends ScreenExplainOptions {
  /**
   * What the heatmap folder and files must keep clear of (the photos screened, the model folder):
   * E_USAGE when DIR is one of them or lies in one, and for a heatmap file that is an input.
   */
  guard?: OutputGuard;
}

/**
 * The explainer `phenoface screen --explain DIR` uses: creates DIR, and for each photo writes
 * `NN-<name>.heatmap.png` (the photo with the heat map warped back onto it) and `NN-<name>.heatmap-aligned.png`
 * (the aligned face; see {@link heatmapPaths}), each with a colour bar (top = hottest), where NN is
 * the photo's position; each file is written whole or not at all. The photo's result gets
 * `regions`, `cam`, `heatmap` and `heatmapAligned` (the files' paths). A model without the
 * embedding but with a linear geometry part gets its regions from geometry instead, and nothing is
 * written (see {@link geometryExplainer}).
 */
export async function fileExplainer(screener: Screener, dir: string, opts: FileExplainOptions = {}): Promise<PhotoExplainer> {
  const other = geometryExplainer(screener) ?? noExplainer(screener);
  if (other) return other;
  const guard = opts.guard ?? { option: 'heatmap folder' };
  // Whatever cannot be explained (a backbone without the finer layer) is refused before the folder is made.
  const se = await explainerOf(screener, opts.cam ?? DEFAULTS.explain.screen.cam);
  const folder = await prepareOutputFolder(dir, guard).catch(async (err: unknown) => {
    await se.explainer.dispose();
    throw err;
  });
  const explain: PhotoExplainer = async (photo, input, index) => {
    const o = await overlaysOf(se, screener, photo, input, opts);
    const { heatmap, heatmapAligned } = heatmapPaths(folder, input.name, index);
    await writeOutputFile(heatmap, await encodePng(o.photo), { ...guard, shown: heatmap });
    await writeOutputFile(heatmapAligned, await encodePng(o.aligned), { ...guard, shown: heatmapAligned });
    return photoFields(o, heatmap, heatmapAligned);
  };
  explain.dispose = () => se.explainer.dispose();
  explain.checksNote = heatMapChecksNote(se.studyScale, se.cam);
  return explain;
}

/**
 * The explainer for the web app (`POST /api/screen` with explanations): the same fields, both
 * overlays as PNG data URLs; the photo overlay is shrunk to `maxSidePx` (default `DEFAULTS.explain.screen.photoOverlayMaxSidePx`) to keep
 * responses small. Nothing is written to disk. A model without the embedding but with a linear
 * geometry part gets its regions from geometry, without overlays.
 */
export function dataUrlExplainer(screener: Screener, opts: ScreenExplainOptions = {}): PhotoExplainer {
  const other = geometryExplainer(screener) ?? noExplainer(screener);
  if (other) return other;
  // Prepared once, on the first photo (the finer layer's session).
  let ready: Promise<ScreenExplainer> | undefined;
  const o2 = { ...opts, maxSidePx: opts.maxSidePx ?? DEFAULTS.explain.screen.photoOverlayMaxSidePx };
  const prepared = () => (ready ??= explainerOf(screener, opts.cam ?? DEFAULTS.explain.screen.cam).then((se) => {
    explain.checksNote = heatMapChecksNote(se.studyScale, se.cam);
    return se;
  }));
  const explain: PhotoExplainer = async (photo, input) => {
    const o = await overlaysOf(await prepared(), screener, photo, input, o2);
    return photoFields(o, await pngDataUrl(o.photo), await pngDataUrl(o.aligned));
  };
  explain.prepare = async () => { await prepared(); };
  explain.dispose = async () => {
    const prepared = ready;
    ready = undefined;
    if (prepared) await (await prepared).explainer.dispose();
  };
  return explain;
}
