/**
 * `phenoface synth --manifest FILE|FOLDER --out DIR --regions LIST --strength S [--fraction F]
 * [--seed N] [--preview]`: a planted-phenotype data set from control photos (cli-contract
 * "synth"). Per-file failures are printed as contract error records on stdout and listed
 * in `DIR/truth.json`; a summary goes to stderr.
 */
import path from 'node:path';
import { checkOutputDir } from '../data/output.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import { DEFAULTS } from '../config.ts';
import { parseRegions, readSynthInput, synthesize, synthGuard, SYNTH_LABELS, SYNTH_OUTPUT, SYNTH_REGIONS, validateSynthOptions, type DetectFn } from '../workflows/synth/index.ts';
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
    regions: { type: 'string', placeholder: 'LIST', list: true, values: SYNTH_REGIONS, required: true, description: 'regions to warp, or "all"' },
    strength: { type: 'number', placeholder: 'S', required: true, description: '0..1 (1 obvious, 0.5 subtle, 0 plants nothing)' },
    fraction: { type: 'number', placeholder: 'F', default: DEFAULTS.synth.fraction, description: 'share of subjects affected, in (0, 1)' },
    seed: { type: 'integer', placeholder: 'N', default: DEFAULTS.synth.seed, description: 'seed of who is affected and of the warps' },
    preview: { type: 'boolean', description: 'also write preview.png: before / planted / strength 1, per affected photo' },
    quality: { type: 'integer', placeholder: 'Q', default: DEFAULTS.synth.jpegQuality, description: 'JPEG quality of every written photo' },
    json: { type: 'boolean', description: 'a refused photo as a JSON line (contract v1) instead of a line of text' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  examples: ['phenoface synth --manifest controls/ --out planted/ --regions all --strength 0.5 --preview'],
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
  const pipeline: Pipeline = await Pipeline.create({ detectOnly: true });
  return { detectFile: (p) => pipeline.detectFile(p), chooseFace, close: () => pipeline.close() };
}

/** The command with its detector injected (tests pass a fake; `run` loads the Pipeline). */
export function synthCommand(createDetector: () => Promise<SynthDetector> = loadPipeline): Command {
  return async (argv, io) => {
    const { values, positionals, help } = parseCommand(SYNTH, argv);
    if (help) { io.out(helpText(SYNTH)); return EXIT.ok; }
    if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}"; photos are given with --manifest.`, USAGE);
    for (const name of ['manifest', 'out', 'regions', 'strength'] as const) {
      if (values[name] === undefined) throw usageError(`Missing --${name}.`, USAGE);
    }
    const regionNames = values.regions!.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const regions = regionNames.length === 1 && regionNames[0] === 'all' ? [...SYNTH_REGIONS] : regionNames;
    const strength = values.strength!;
    const { fraction, seed, quality: jpegQuality } = values;
    // Check every option before touching the disk or loading models.
    parseRegions(regions);
    validateSynthOptions({ strength, fraction, seed, jitter: DEFAULTS.synth.jitter, jpegQuality });

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
          if (error) io.out(refused(row.path, error));
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
