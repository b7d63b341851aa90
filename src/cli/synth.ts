/**
 * `phenoface synth --manifest FILE|FOLDER --out DIR --regions LIST --strength S [--fraction F]
 * [--seed N] [--preview]`: a planted-phenotype data set from control photos (cli-contract
 * "synth"). Per-file failures are printed as contract error records on stdout and listed
 * in `DIR/truth.json`; a summary goes to stderr.
 */
import path from 'node:path';
import { checkOutputDir } from '../data/output.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { parseRegions, readSynthInput, synthesize, synthGuard, SYNTH_DEFAULTS, SYNTH_LABELS, SYNTH_OUTPUT, SYNTH_REGIONS, validateSynthOptions, type DetectFn } from '../workflows/synth/index.ts';
import type { Face } from '../types.ts';
import { parse, usageError } from './args.ts';
import { Progress } from './batch.ts';
import { errorJson } from './format.ts';
import { EXIT, type Command } from './io.ts';

const USAGE = 'phenoface synth --manifest FILE|FOLDER --out DIR --regions LIST --strength S [--fraction F] [--seed N] [--preview] [--quality Q] [--quiet]';

const HELP = `Usage: ${USAGE}

Builds a planted-phenotype data set: a seeded fraction of subjects ("${SYNTH_LABELS.affected}") get a smooth
22q11.2DS-like warp on every photo; the rest ("${SYNTH_LABELS.control}") pass through the same resampling unchanged.

  --manifest  CSV with path,subject[,view] (paths relative to it), or a folder ROOT/<subject>/<photo>
  --out       new or empty folder, or an earlier synth's (replaced once the new set is complete):
              images/, manifest.csv, truth.json (and preview.png)
  --regions   comma-separated, or "all": ${SYNTH_REGIONS.join(', ')}
  --strength  0..1 (1 obvious, 0.5 subtle, 0 plants nothing)
  --fraction  share of subjects affected, in (0, 1) (default ${SYNTH_DEFAULTS.fraction})
  --seed      integer (default ${SYNTH_DEFAULTS.seed})
  --preview   also write preview.png: before / planted / strength 1, per affected photo
  --quality   JPEG quality of every written photo (default ${SYNTH_DEFAULTS.jpegQuality})
`;

/** The detector synth needs; the real one is the Pipeline (detect-only). */
export interface SynthDetector {
  detectFile: DetectFn;
  chooseFace(faces: Face[], width: number, height: number): Face | undefined;
  close(): Promise<void>;
}

async function loadPipeline(): Promise<SynthDetector> {
  const { Pipeline, chooseFace } = await import('../pipeline/pipeline.ts');
  const pipeline: Pipeline = await Pipeline.create({ detectOnly: true });
  return { detectFile: (p) => pipeline.detectFile(p), chooseFace, close: () => pipeline.close() };
}

function numberArg(value: string | undefined, name: string, integer = false): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw usageError(`Invalid --${name}: "${value}". Should be ${integer ? 'an integer' : 'a number'}.`, USAGE);
  }
  return n;
}

/** The command with its detector injected (tests pass a fake; `run` loads the Pipeline). */
export function synthCommand(createDetector: () => Promise<SynthDetector> = loadPipeline): Command {
  return async (argv, io) => {
    const { values, positionals } = parse(argv, {
      manifest: { type: 'string' },
      out: { type: 'string' },
      regions: { type: 'string' },
      strength: { type: 'string' },
      fraction: { type: 'string' },
      seed: { type: 'string' },
      quality: { type: 'string' },
      preview: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    }, USAGE);
    if (values.help) { io.out(HELP); return EXIT.ok; }
    if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}"; photos are given with --manifest.`, USAGE);
    for (const name of ['manifest', 'out', 'regions', 'strength'] as const) {
      if (values[name] === undefined) throw usageError(`Missing --${name}.`, USAGE);
    }
    const regionNames = values.regions!.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const regions = regionNames.length === 1 && regionNames[0] === 'all' ? [...SYNTH_REGIONS] : regionNames;
    const strength = numberArg(values.strength, 'strength')!;
    const fraction = numberArg(values.fraction, 'fraction') ?? SYNTH_DEFAULTS.fraction;
    const seed = numberArg(values.seed, 'seed', true) ?? SYNTH_DEFAULTS.seed;
    const jpegQuality = numberArg(values.quality, 'quality', true) ?? SYNTH_DEFAULTS.jpegQuality;
    // Check every option before touching the disk or loading models.
    parseRegions(regions);
    validateSynthOptions({ strength, fraction, seed, jitter: SYNTH_DEFAULTS.jitter, jpegQuality });

    const source = path.resolve(io.cwd, values.manifest!);
    const outDir = path.resolve(io.cwd, values.out!);
    const input = await readSynthInput(source);
    // The output folder is checked against the input before any model loads.
    await checkOutputDir(outDir, SYNTH_OUTPUT, synthGuard({ rows: input.rows, source: input, outOption: '--out' }));
    for (const e of input.errors) io.out(errorJson(e.path, e.error));

    const detector = await createDetector();
    const progress = new Progress(io, 'synth', input.rows.length, !values.quiet && input.rows.length > 20);
    try {
      const result = await synthesize({
        rows: input.rows,
        inputErrors: input.errors,
        source: input,
        outDir,
        outOption: '--out',
        regions,
        strength,
        fraction,
        seed,
        jpegQuality,
        preview: values.preview,
        sourceName: values.manifest,
        detect: (p) => detector.detectFile(p),
        chooseFace: (f, w, h) => detector.chooseFace(f, w, h),
        onPhoto: ({ row, error }) => {
          progress.tick();
          if (error) io.out(errorJson(row.path, error));
        },
      });
      const subjects = Object.values(result.truth.subjects);
      const affected = subjects.filter((s) => s.label === SYNTH_LABELS.affected).length;
      io.err(
        `synth: wrote ${result.written} photo${result.written === 1 ? '' : 's'} of ${subjects.length} subjects ` +
        `(${affected} ${SYNTH_LABELS.affected}, ${subjects.length - affected} ${SYNTH_LABELS.control}; strength ${strength}, regions ${result.truth.options.regions.join(', ')}) to ${values.out}` +
        (result.failed > 0 ? `; ${result.failed} input${result.failed === 1 ? '' : 's'} failed (listed in truth.json "skipped")` : '') +
        (result.previewPath ? `; preview: ${result.previewPath}` : '') + '\n',
      );
      if (result.written === 0) {
        io.err('synth: no photo could be used, so the data set is empty.\n');
        return EXIT.failure;
      }
      return result.failed > 0 ? EXIT.partial : EXIT.ok;
    } finally {
      await detector.close();
    }
  };
}

/** `phenoface synth` with the real detector. */
export const run: Command = synthCommand();
