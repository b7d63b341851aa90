/**
 * `phenoface synth --manifest FILE|FOLDER --out DIR (--regions LIST --strength S | --classes SPEC)
 * [--fraction F] [--seed N] [--preview]`: a planted-phenotype data set from control photos (cli-contract
 * "synth"). Per-file failures are printed as contract error records on stdout and listed
 * in `DIR/truth.json`; a summary goes to stderr.
 */
import path from 'node:path';
import { checkOutputDir } from '../data/output.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { DEFAULTS } from '../config.ts';
import { JPEG_QUALITY_RANGE, parseClassSpec, parseRegions, readSynthInput, synthesize, synthGuard, SYNTH_LABELS, SYNTH_OUTPUT, SYNTH_REGIONS, validateSynthOptions, type DetectFn, type Truth } from '../workflows/synth/index.ts';
import type { Face } from '../types.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { ProgressCounter } from '../data/progress.ts';
import { errorJson, errorLine } from './format.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface synth`'s options. */
export const SYNTH = defineCommand({
  name: 'synth',
  description: [
    `Builds a planted-phenotype data set: a seeded fraction of subjects ("${SYNTH_LABELS.affected}") get a smooth`,
    `22q11.2DS-like warp on every photo; the rest ("${SYNTH_LABELS.control}") pass through the same resampling unchanged.`,
  ].join('\n'),
  args: {
    manifest: { type: 'string', placeholder: 'FILE|FOLDER', required: true, description: 'CSV with path,subject[,view] (paths relative to it), or a folder ROOT/<subject>/<photo>' },
    out: { type: 'string', placeholder: 'DIR', required: true, description: "new or empty folder, or an earlier synth's (replaced once the new set is complete):\nimages/, manifest.csv, truth.json (and preview.png)" },
    regions: { type: 'string', placeholder: 'LIST', list: true, values: SYNTH_REGIONS, description: 'regions to warp, or "all" (with --strength)' },
    strength: { type: 'number', placeholder: 'S', min: 0, max: 1, description: '0..1 (1 obvious, 0.5 subtle, 0 plants nothing)' },
    classes: { type: 'string', placeholder: 'SPEC', description: 'instead of --regions and --strength: several planted classes, each with its\nown regions and strengths, dealt the affected subjects in turn; the rest\nstay "control". SPEC: name:region=S[+region=S...][,name:...], e.g.\n"a:perinasal=0.6,b:periorbital=0.5+perioral=0.4"' },
    fraction: { type: 'number', placeholder: 'F', default: DEFAULTS.synth.fraction, description: 'share of subjects affected (all classes together), in (0, 1)' },
    seed: { type: 'integer', placeholder: 'N', default: DEFAULTS.synth.seed, description: 'seed of who is affected and of the warps' },
    preview: { type: 'boolean', description: 'also write preview.png: before / planted / strength 1, per affected photo' },
    quality: { type: 'integer', placeholder: 'Q', ...JPEG_QUALITY_RANGE, default: DEFAULTS.synth.jpegQuality, description: 'JPEG quality of every written photo' },
    json: { type: 'boolean', description: 'a refused photo as a JSON line (contract v1) instead of a line of text' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  examples: [
    'phenoface synth --manifest controls/ --out planted/ --regions all --strength 0.5 --preview',
    'phenoface synth --manifest controls/ --out ranked/ --classes "a:perinasal=0.8,b:periorbital=0.8,c:perioral=0.6+facelength=0.6" --fraction 0.75',
  ],
});

const USAGE = usageLine(SYNTH);

/** The detector synth needs; the real one is the Pipeline (detect-only). */
export interface SynthDetector {
  detectFile: DetectFn;
  chooseFace(faces: Face[], width: number, height: number): Face | undefined;
  close(): Promise<void>;
}

async function loadPipeline(): Promise<SynthDetector> {
  const { Pipeline, chooseFace } = await import('../pipeline/pipeline.ts');
  // With the dense landmarks, whose five points anchor the warps (as they align the embedding).
  const pipeline: Pipeline = await Pipeline.create({ detectOnly: true, landmarks: true });
  return { detectFile: (p) => pipeline.detectFile(p), chooseFace, close: () => pipeline.close() };
}

/** The command with its detector injected (tests pass a fake; `run` loads the Pipeline). */
export function synthCommand(createDetector: () => Promise<SynthDetector> = loadPipeline): Command {
  return async (argv, io) => {
    const { values, positionals, help } = parseCommand(SYNTH, argv);
    if (help) { io.out(helpText(SYNTH)); return EXIT.ok; }
    if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}"; photos are given with --manifest.`, USAGE);
    for (const name of ['manifest', 'out'] as const) {
      if (values[name] === undefined) throw usageError(`Missing --${name}.`, USAGE);
    }
    const planted = plantedOptions(values);
    const { fraction, seed, quality: jpegQuality } = values;
    // Check every option before touching the disk or loading models.
    validateSynthOptions({ strength: planted.strength, fraction, seed, jitter: DEFAULTS.synth.jitter, jpegQuality }, { fraction: '--fraction' });

    const source = path.resolve(io.cwd, values.manifest!);
    const outDir = path.resolve(io.cwd, values.out!);
    const input = await readSynthInput(source);
    // The output folder is checked against the input before any model loads.
    await checkOutputDir(outDir, SYNTH_OUTPUT, synthGuard({ rows: input.rows, source: input, outOption: '--out' }));
    const refused = values.json ? errorJson : errorLine;
    for (const e of input.errors) io.out(refused(e.path, e.error));

    const detector = await createDetector();
    const progress = new ProgressCounter(io, 'synth', input.rows.length, !values.quiet && input.rows.length > 20);
    try {
      const result = await synthesize({
        rows: input.rows,
        inputErrors: input.errors,
        source: input,
        outDir,
        outOption: '--out',
        ...planted.options,
        fraction,
        seed,
        jpegQuality,
        preview: values.preview,
        sourceName: values.manifest,
        detect: (p) => detector.detectFile(p),
        chooseFace: (f, w, h) => detector.chooseFace(f, w, h),
        onPhoto: ({ row, error }) => {
          progress.tick();
          if (error) io.out(refused(row.path, error));
        },
      });
      const counts = classCounts(result.truth);
      io.err(
        `synth: wrote ${result.written} photo${result.written === 1 ? '' : 's'} of ${new Set(result.truth.photos.map((p) => p.subject)).size} subjects ` +
        `(${counts ? `${counts}; ` : ''}${planted.description}) to ${values.out}` +
        (result.failed > 0 ? `; ${result.failed} input${result.failed === 1 ? '' : 's'} failed (listed in truth.json "skipped")` : '') +
        (result.previewPath ? `; preview: ${result.previewPath}` : '') + '\n',
      );
      // Every input refused is still the contract's "some inputs failed" (exit 3, as detect, embed and
      // screen exit): each has its error record, and nothing but the inputs went wrong.
      if (result.written === 0) io.err('synth: no photo could be used, so the data set is empty.\n');
      return result.failed > 0 ? EXIT.partial : EXIT.ok;
    } finally {
      await detector.close();
    }
  };
}

/** The planted classes from `--classes`, or the one class of `--regions` and `--strength`; E_USAGE for a mix or a gap. */
function plantedOptions(values: { regions?: string; strength?: number; classes?: string }) {
  if (values.classes !== undefined) {
    if (values.regions !== undefined || values.strength !== undefined) throw usageError('--classes replaces --regions and --strength; give one or the other.', USAGE);
    const classes = parseClassSpec(values.classes, SYNTH_LABELS.control);
    const strength = Math.max(...classes.flatMap((c) => Object.values(c.regions) as number[]));
    return { options: { classes }, strength, description: `classes ${classes.map((c) => `${c.label} (${Object.entries(c.regions).map(([r, v]) => `${r} ${v}`).join(', ')})`).join('; ')}` };
  }
  for (const name of ['regions', 'strength'] as const) {
    if (values[name] === undefined) throw usageError(`Missing --${name} (or --classes).`, USAGE);
  }
  const regionNames = values.regions!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const regions = parseRegions(regionNames.length === 1 && regionNames[0] === 'all' ? [...SYNTH_REGIONS] : regionNames);
  return { options: { regions, strength: values.strength! }, strength: values.strength!, description: `strength ${values.strength}, regions ${regions.join(', ')}` };
}

/** Subjects per label, the untouched class last, e.g. `12 vcfs, 12 control`. */
/** People per class among those with a photo written (a person whose every photo failed is not in the data set). */
function classCounts(truth: Truth): string {
  const written = new Set(truth.photos.map((p) => p.subject));
  const counts = new Map<string, number>();
  for (const [id, s] of Object.entries(truth.subjects)) if (written.has(id)) counts.set(s.label, (counts.get(s.label) ?? 0) + 1);
  const order = (l: string) => (l === SYNTH_LABELS.control ? '\uffff' : l);
  return [...counts].sort((a, b) => (order(a[0]) < order(b[0]) ? -1 : 1)).map(([label, n]) => `${n} ${label}`).join(', ');
}

/** `phenoface synth` with the real detector. */
export const run: Command = synthCommand();
