/**
 * Explanations for screening (`phenoface screen --explain DIR`, the web app): per photo, the
 * Grad-CAM regions and two overlays, on the aligned face and on the photo itself. The CLI writes
 * the overlays as PNG files; the web app gets them as PNG data URLs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';
import { decodeImage, encodePng } from '../image/index.ts';
import type { PhotoExplainer, ScreenInput, Screener } from '../screen.ts';
import type { EmbedResult } from '../pipeline.ts';
import type { RgbImage } from '../types.ts';
import { EXPLAIN_DEFAULTS } from '../config.ts';
import { classifierScorer, Explainer, rankedRegions, type FaceExplanation } from './explainer.ts';
import { loadReference } from './reference.ts';
import { alignedOverlay, photoOverlay, pngDataUrl, type OverlayStyle } from './overlay.ts';

/** A photo's explanation with its two overlay images, and the contrastive HiResCAM when the bundle has a control reference. */
export interface PhotoOverlays {
  explanation: FaceExplanation;
  aligned: RgbImage;
  photo: RgbImage;
  contrast?: { explanation: FaceExplanation; aligned: RgbImage };
}

/** What explains a screener's photos: Grad-CAM always; contrastive HiResCAM with the bundle's reference. */
interface ScreenExplainer {
  explainer: Explainer;
  scorer: ReturnType<typeof classifierScorer>;
  reference?: Float32Array;
}

/** Options of the screening explainers. */
export interface ScreenExplainOptions extends Partial<OverlayStyle> {
  /** Longest side of the photo overlay in pixels (the photo is shrunk to it; default: the decoder's limit). */
  maxSidePx?: number;
}

/**
 * Builds the explainer of a screener's model (E_MODEL when its backbone or classifier cannot be
 * explained). When the bundle folder holds the study's control reference (`explain-reference.json`),
 * the finer layer is loaded too, for contrastive HiResCAM.
 */
async function explainerOf(screener: Screener): Promise<ScreenExplainer> {
  const backbone = screener.pipelineRef.backbone;
  if (!backbone) throw new PhenofaceError('E_CONFIG', 'The screener has no backbone loaded: it cannot explain.');
  const explainer = Explainer.create(backbone);
  const scorer = classifierScorer(screener.bundle.model);
  const layer = EXPLAIN_DEFAULTS.fineLayer[backbone.spec.name];
  const reference = layer ? await loadReference(screener.bundle.dir, backbone.spec.name, layer) : undefined;
  if (!reference) return { explainer, scorer };
  await explainer.loadFineLayer();
  return { explainer, scorer, reference: reference.data };
}

/** Explains one embedded photo and draws both overlays (the photo is decoded again, shrunk to `maxSidePx`). */
async function overlaysOf({ explainer, scorer, reference }: ScreenExplainer, screener: Screener, photo: EmbedResult, input: ScreenInput, opts: ScreenExplainOptions): Promise<PhotoOverlays> {
  const [explanation] = await explainer.explain([photo.aligned.image], scorer);
  let contrast: PhotoOverlays['contrast'];
  if (reference) {
    const c = explainer.explainFine(await explainer.forwardFine(photo.aligned.image), scorer, 'hirescam', reference);
    contrast = { explanation: c, aligned: alignedOverlay(photo.aligned.image, c.heat, opts) };
  }
  const source = input.bytes ?? input.path;
  if (source === undefined) throw new PhenofaceError('E_INPUT', `Photo "${input.name}" has neither bytes nor a path.`);
  const limits = screener.pipelineRef.config.image;
  const img = await decodeImage(source, opts.maxSidePx ? { ...limits, maxSidePx: Math.min(limits.maxSidePx, opts.maxSidePx) } : limits);
  // aligned.matrix maps full-size pixels; this decode holds `scale` pixels per full-size pixel.
  const [a, b, c, d, e, f] = photo.aligned.matrix;
  const s = img.scale;
  const matrix: typeof photo.aligned.matrix = [a / s, b / s, c, d / s, e / s, f];
  return {
    explanation,
    aligned: alignedOverlay(photo.aligned.image, explanation.heat, opts),
    photo: photoOverlay(img, matrix, explanation.heat, explanation.size, opts),
    ...(contrast ? { contrast } : {}),
  };
}

/** A file-name stem from a photo's name: its base name without extension, unsafe characters replaced. */
function stem(name: string): string {
  const base = path.basename(name).replace(/\.[^.]*$/, '');
  return base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'photo';
}

/**
 * The explainer `phenoface screen --explain DIR` uses: creates DIR, and for each photo writes
 * `NN-<name>.png` (the photo with the heat map warped back onto it) and `NN-<name>-aligned.png`
 * (the aligned face), each with a colour bar (top = hottest), where NN is the photo's position;
 * the photo's result gets `regions` (ranked by share, with HPO terms), `heatmap` and
 * `heatmapAligned` (the files' paths). With the study's control reference beside the bundle, also
 * `NN-<name>-contrast-aligned.png` (contrastive HiResCAM on the aligned face) and the result's
 * `contrastRegions` and `heatmapContrastAligned`.
 */
export async function fileExplainer(screener: Screener, dir: string, opts: ScreenExplainOptions = {}): Promise<PhotoExplainer> {
  const se = await explainerOf(screener);
  await mkdir(dir, { recursive: true });
  return async (photo, input, index) => {
    const o = await overlaysOf(se, screener, photo, input, opts);
    const base = path.join(dir, `${String(index + 1).padStart(2, '0')}-${stem(input.name)}`);
    const heatmap = `${base}.png`, heatmapAligned = `${base}-aligned.png`;
    await writeFile(heatmap, await encodePng(o.photo));
    await writeFile(heatmapAligned, await encodePng(o.aligned));
    if (!o.contrast) return { regions: rankedRegions(o.explanation.regions), heatmap, heatmapAligned };
    const heatmapContrastAligned = `${base}-contrast-aligned.png`;
    await writeFile(heatmapContrastAligned, await encodePng(o.contrast.aligned));
    return { regions: rankedRegions(o.explanation.regions), heatmap, heatmapAligned, contrastRegions: rankedRegions(o.contrast.explanation.regions), heatmapContrastAligned };
  };
}

/**
 * The explainer for the web app (`POST /api/screen` with explanations): the same regions, and both
 * overlays as PNG data URLs; the photo overlay is shrunk to `maxSidePx` (default 800) to keep
 * responses small. Nothing is written to disk.
 */
export function dataUrlExplainer(screener: Screener, opts: ScreenExplainOptions = {}): PhotoExplainer {
  // Prepared once, on the first photo (the finer layer's session when the bundle has a reference).
  let ready: Promise<ScreenExplainer> | undefined;
  const o2 = { ...opts, maxSidePx: opts.maxSidePx ?? 800 };
  return async (photo, input) => {
    const o = await overlaysOf(await (ready ??= explainerOf(screener)), screener, photo, input, o2);
    const base = { regions: rankedRegions(o.explanation.regions), heatmap: await pngDataUrl(o.photo), heatmapAligned: await pngDataUrl(o.aligned) };
    return o.contrast ? { ...base, contrastRegions: rankedRegions(o.contrast.explanation.regions), heatmapContrastAligned: await pngDataUrl(o.contrast.aligned) } : base;
  };
}
