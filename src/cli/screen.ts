/**
 * `phenoface screen <photos...> --model DIR/model [--json] [--explain DIR [--cam NAME]]`: photos of
 * one person -> per-photo and fused probability, view and quality warnings (contract v1); with
 * `--explain`, each photo's regions and heatmaps from the map `--cam` names (default: contrastive).
 */
import path from 'node:path';
import { checkOutput, type OutputGuard } from '../data/output.ts';
import { DEFAULTS } from '../config.ts';
import { fileExplainer, heatmapPaths, SCREEN_CAMS, type ScreenCam } from '../workflows/screen/explainer.ts';
import { Screener, type PhotoExplainer } from '../workflows/screen/screener.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { expandInputs, folderInputs, type InputItem } from './inputs.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface screen`'s options. */
export const SCREEN = defineCommand({
  name: 'screen',
  synopsis: '<photos or folder...>',
  description: [
    "Screens photos of one person with a trained model: each photo's probability, view and quality",
    'warnings, and the fused result. A screening aid, not a diagnosis.',
  ].join('\n'),
  args: {
    model: { type: 'string', short: 'm', placeholder: 'DIR/model', required: true, description: 'the model/ folder written by `phenoface study`' },
    json: { type: 'boolean', description: 'print the result as one JSON object (contract v1)' },
    explain: { type: 'string', placeholder: 'DIR', defaultText: 'no explanation', description: "write each photo's heatmaps to DIR and list its top regions" },
    cam: { type: 'string', placeholder: 'NAME', label: 'explanation map', values: SCREEN_CAMS, default: DEFAULTS.explain.screen.cam, description: 'the map --explain draws' },
  },
  examples: ['phenoface screen photos/patient-1/ --model results/model --explain heatmaps/'],
});

const USAGE = usageLine(SCREEN);

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
    for (const file of Object.values(heatmapPaths(dir, item.path, i))) await checkOutput(file, { ...guard, shown: path.join(explain, path.basename(file)) });
  }
  return guard;
}

export const run: Command = async (argv, io) => {
  const { values, positionals, help, given } = parseCommand(SCREEN, argv);
  if (help) { io.out(helpText(SCREEN)); return EXIT.ok; }
  if (!values.model) throw usageError('No --model given (the model/ folder written by `phenoface study`).', USAGE);
  if (positionals.length === 0) throw usageError('No photos given.', USAGE);
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
    const result = await screener.screen(items.map((it) => ({ name: it.path, path: it.abs })), { explain });
    if (values.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      const s = result.subject;
      const lines = [
        s.probability === null
          ? 'No usable photo: no result.'
          : `Result: ${s.label} (probability ${(100 * s.probability).toFixed(1)}%${s.interval ? `, photos range ${(100 * s.interval[0]).toFixed(0)}-${(100 * s.interval[1]).toFixed(0)}%` : ''}; threshold ${(100 * s.threshold).toFixed(1)}%) from ${s.photos} photo${s.photos === 1 ? '' : 's'}`,
        ...result.photos.map((p) => p.error
          ? `  ${p.path}: ${p.error.code}: ${p.error.message}`
          : `  ${p.path}: ${(100 * p.probability!).toFixed(1)}%, ${p.view}${p.warnings?.length ? ` (${p.warnings.join('; ')})` : ''}${p.regions ? `; top regions ${p.regions.slice(0, 3).map((r) => `${r.name} ${(100 * r.share).toFixed(0)}%`).join(', ')}` : ''}${p.heatmap ? `; heatmap ${p.heatmap}` : ''}`),
        result.disclaimer,
      ];
      io.out(lines.join('\n') + '\n');
    }
    return result.photos.some((p) => p.error) ? EXIT.partial : EXIT.ok;
  } finally {
    await explain?.dispose?.();
    await screener.close();
  }
};
