/**
 * The `phenoface` command: dispatches to one lazily loaded file per subcommand and is the CLI's
 * single error boundary, mapping error codes to the contract's exit codes
 * (0 all succeeded, 3 some inputs failed, 2 bad usage, 1 otherwise).
 */
import { PhenofaceError } from '../errors.ts';
import { printable } from './format.ts';
import { EXIT, processIO, type CliIO, type Command } from './io.ts';

/** Subcommands, loaded only when called (startup stays fast; a broken command cannot break others). */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: Command }> }> = {
  detect: { summary: 'find faces, landmarks, head pose and view in photos', load: () => import('./detect.ts') },
  embed: { summary: 'align and embed the face of each photo (JSON lines)', load: () => import('./embed.ts') },
  study: { summary: 'train and evaluate a classifier on labelled photos; writes a report and a model', load: () => import('./study.ts') },
  screen: { summary: "score one person's photos with a trained model", load: () => import('./screen.ts') },
  synth: { summary: 'build a planted-phenotype data set from control photos', load: () => import('./synth.ts') },
  demo: { summary: 'run the whole pipeline on a small synthetic study', load: () => import('./demo.ts') },
  serve: { summary: 'start the local web application', load: () => import('./serve.ts') },
  models: { summary: 'build or list the models (run by npm install)', load: () => import('./models.ts') },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Phenoface: face-photo screening for 22q11.2 deletion syndrome, run on your own machine.',
    '',
    'Usage: phenoface <command> [options]   (phenoface <command> --help for its options)',
    '',
    'Commands:',
    ...lines,
    '',
  ].join('\n');
}

/** Exit code for an error that escaped a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof PhenofaceError && (err.code === 'E_USAGE' || err.code === 'E_CONFIG')) return EXIT.usage;
  return EXIT.failure;
}

/** Runs the CLI on `argv` (without `node` and the script). Never throws. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    io.out(`${pkg.version}\n`);
    return EXIT.ok;
  }
  // Own commands only: a command typed as "constructor" or "toString" is unknown, not found on the prototype.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`phenoface: E_USAGE: unknown command "${name}". Should be one of: ${Object.keys(COMMANDS).join(', ')} (or --help, --version).\n`);
    return EXIT.usage;
  }
  try {
    const { run } = await command.load();
    const code = await run(rest, io);
    // A reader that closed standard output (`| head`) took what it wanted: the run ends quietly.
    return io.outputClosed?.aborted ? EXIT.ok : code;
  } catch (err) {
    const code = err instanceof PhenofaceError ? err.code : 'E_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    io.err(`phenoface ${name}: ${code}: ${printable(message)}\n`);
    if (code === 'E_INTERNAL' && err instanceof Error && process.env.PHENOFACE_DEBUG) io.err(`${err.stack}\n`);
    return exitCodeFor(err);
  }
}
