/**
 * `phenoface demo [--out DIR] [--photos FOLDER|MANIFEST] [--strength S] [--quick] [--seed N]
 * [--no-open] [--quiet]`: the whole pipeline on a small SYNTHETIC study (see
 * `src/workflows/demo/demo.ts`). Progress goes to stderr; the summary and the report's path to stdout. The
 * report is opened in a browser only when a display exists and `--no-open` is not given.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEFAULTS } from '../config.ts';
import { permutationFloorNote } from '../evaluate/permutation.ts';
import { singleValueClause } from '../evaluate/post-test.ts';
import { explanationChecksText, runDemo, screeningText, type DemoResult } from '../workflows/demo/demo.ts';
import { validateSynthOptions, SYNTH_LABELS } from '../workflows/synth/index.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { EXIT, type CliIO, type Command } from './io.ts';
import { printable } from './format.ts';

/** `phenoface demo`'s options. */
export const DEMO = defineCommand({
  name: 'demo',
  description: [
    'Runs Phenoface end to end on a small SYNTHETIC study, offline: faces from the demo photos that',
    'come with npm install (or your --photos), a 22q11.2DS-like warp planted in half of the people,',
    'a subject-grouped cross-validated study, and screening, with heatmaps, of two people the model',
    'never saw. Not a clinical model.',
  ].join('\n'),
  args: {
    out: { type: 'string', short: 'o', placeholder: 'DIR', default: DEFAULTS.demo.out, description: "output folder; new, empty, or an earlier demo's" },
    photos: { type: 'string', placeholder: 'FOLDER|MANIFEST', defaultText: 'the bundled demo photos', description: 'a folder ROOT/<person>/<photo> or a manifest CSV (path,subject[,view]) of control photos' },
    strength: { type: 'number', placeholder: 'S', min: 0, max: 1, default: DEFAULTS.demo.strength, description: 'planted strength (1 obvious, 0.5 subtle)' },
    quick: { type: 'boolean', description: 'fewer photos per person and a lighter study (about half the time)' },
    seed: { type: 'integer', placeholder: 'N', min: 0, max: 2 ** 31 - 1, default: DEFAULTS.demo.seed, description: 'seed of the people, the warps and the study' },
    'no-open': { type: 'boolean', description: 'do not open the report in a browser' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  examples: ['phenoface demo', 'phenoface demo --quick --no-open --out /tmp/demo'],
});

const USAGE = usageLine(DEMO);

const ci = (e: { value: number | null; ci95: [number, number] | null }) => (e.value === null ? 'n/a' : `${e.value.toFixed(2)}${e.ci95 ? ` (95% CI ${e.ci95[0].toFixed(2)}-${e.ci95[1].toFixed(2)}${singleValueClause(e.ci95)})` : ''}`);

/** The summary printed at the end of the demo. */
export function formatDemoSummary(r: DemoResult, cwd: string): string {
  const rel = (p: string) => (path.relative(cwd, p).startsWith('..') ? p : `./${path.relative(cwd, p)}`);
  const auc = r.study.subjectAuc;
  const found = {
    found: 'the planted signal was found (95% CI above 0.5 and permutation p < 0.05)',
    suggested: 'the planted signal is suggested but not established with this few people (only one of: 95% CI above 0.5, permutation p < 0.05)',
    'not-found': 'the planted signal was NOT found with this few people at this strength (95% CI reaches 0.5, permutation p >= 0.05)',
  }[r.signal];
  const lines = [
    '',
    'Phenoface demo: SYNTHETIC data, not a clinical model',
    `  people    ${r.people} (${r.source}), ${r.photos} photos`,
    `  planted   a 22q11.2DS-like warp (${r.regions.join(', ')}) at strength ${r.options.strength} in ${r.synth.affected} people (label "${SYNTH_LABELS.affected}"); ${r.synth.controls} controls`,
    `  study     ${r.study.subjects} people, ${r.study.photos} photos, ${r.options.folds}-fold x ${r.options.repeats} subject-grouped cross-validation`,
    `            AUC per person ${ci(auc)}, per photo ${ci(r.study.photoAuc)}${r.study.permutationP !== null ? `; permutation p = ${r.study.permutationP.toFixed(3)}${permutationFloorNote(r.study.permutationP, r.options.permutations)}` : ''}`,
    `            ${found}`,
    '  screened  (held out of the study)',
    ...r.screenings.map((s) => {
      const t = screeningText(s);
      const failed = s.result.photos.filter((p) => p.error).length;
      return `            ${s.subject} (${t.truth}): ${t.call} from ${s.result.subject.photos} photos` +
        `${failed ? `, ${failed} failed` : ''}${t.score ? `; ${t.score}` : ''}${t.regions ? `; ${t.belowNote ?? 'top heatmap regions'} ${t.regions}` : ''} -> ${rel(s.file)}`;
    }),
    ...(r.study.explanationChecks ? [`  checks    ${explanationChecksText(r.study.explanationChecks)}`] : []),
    r.explain.status === 'done'
      ? `  heatmaps  ${rel(path.join(r.out, 'screen'))}`
      : `  heatmaps  explain stage failed: ${r.explain.error.code}: ${r.explain.error.message}`,
    ...(r.synth.preview ? [`  preview   ${rel(r.synth.preview)} (before / planted / strength 1)`] : []),
    `  model     ${rel(r.study.model)} (marked synthetic)`,
    `  time      ${r.seconds.total.toFixed(0)} s (${Object.entries(r.seconds).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')})`,
    `  report    ${r.study.report}`,
    '',
  ];
  return lines.join('\n');
}

/** True when a graphical session is there to show a browser in (X11, Wayland, macOS, Windows). */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Opens `file` in the default browser, detached; false when the opener cannot be started. */
function openInBrowser(file: string): Promise<boolean> {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [file]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', file]] : ['xdg-open', [file]];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('spawn', () => { child.unref(); resolve(true); });
  });
}

/** `phenoface demo`. */
export const run: Command = async (argv: string[], io: CliIO) => {
  const { values, positionals, help } = parseCommand(DEMO, argv);
  if (help) { io.out(helpText(DEMO)); return EXIT.ok; }
  if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}"; photos are given with --photos.`, USAGE);
  const { strength, seed } = values;
  validateSynthOptions({ strength, fraction: DEFAULTS.demo.fraction, seed, jitter: DEFAULTS.synth.jitter, jpegQuality: DEFAULTS.synth.jpegQuality });

  const result = await runDemo({
    out: path.resolve(io.cwd, values.out),
    photos: values.photos && path.resolve(io.cwd, values.photos),
    strength,
    quick: values.quick,
    seed,
    log: io,
    quiet: values.quiet,
  });
  // The summary names the people by their folders (`--photos`), from the user's files.
  io.out(printable(formatDemoSummary(result, io.cwd)));
  if (!values['no-open'] && hasDisplay()) {
    if (await openInBrowser(result.study.report)) io.err('demo: opening the report in your browser\n');
    else io.err(`demo: could not start a browser; open ${result.study.report} yourself\n`);
  }
  const photoErrors = result.screenings.some((s) => s.result.photos.some((p) => p.error));
  if (result.explain.status === 'failed') return EXIT.failure;
  return result.synth.skipped > 0 || result.study.photosWithoutFace > 0 || photoErrors ? EXIT.partial : EXIT.ok;
};
