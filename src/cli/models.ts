/**
 * `phenoface models build [--quiet-if-ready] [--force] [--dir DIR]`: fetch, verify and convert the
 * networks (npm's postinstall runs it with `--quiet-if-ready`).
 * `phenoface models list [--json] [--dir DIR]`: what the manifest records and whether each model is built.
 */
import { existsSync } from 'node:fs';
import path, { resolve } from 'node:path';
import { isFsError, mapFsError, prepareOutputFolder } from '../data/output.ts';
import { ensureModels } from '../runtime/build/install.ts';
import { DEFAULT_MODELS_DIR, loadManifest, MODEL_NAMES, modelStatus } from '../runtime/index.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { EXIT, type Command } from './io.ts';
import { PhenofaceError } from '../errors.ts';

/** The actions of `phenoface models`. */
const ACTIONS = ['build', 'list'] as const;

/** `phenoface models`'s options. */
export const MODELS = defineCommand({
  name: 'models',
  synopsis: `<${ACTIONS.join('|')}>`,
  description: [
    'build: fetches, verifies and converts the networks (npm install runs it with --quiet-if-ready).',
    'list: what the manifest records about each model and whether it is built.',
  ].join('\n'),
  args: {
    'quiet-if-ready': { type: 'boolean', description: 'build: print nothing when every model is already built' },
    force: { type: 'boolean', description: 'build: rebuild models that are already built' },
    json: { type: 'boolean', description: 'list: print one JSON object (contract v1)' },
    dir: { type: 'string', placeholder: 'DIR', defaultText: "the package's models/ folder", description: 'models folder' },
  },
  examples: ['phenoface models list', 'phenoface models build --force'],
});

const USAGE = usageLine(MODELS);

export const run: Command = async (argv, io) => {
  const { values, positionals, help } = parseCommand(MODELS, argv);
  if (help) {
    io.out(helpText(MODELS));
    return EXIT.ok;
  }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw usageError(`Unexpected argument "${extra[0]}".`, USAGE);
  const dir = values.dir ? resolve(io.cwd, values.dir) : DEFAULT_MODELS_DIR;

  if (action === 'build') {
    if (values.dir) await prepareOutputFolder(dir, { option: '--dir', shown: values.dir });
    const result = await ensureModels({ dir, force: values.force, log: (line) => io.err(`models: ${line}\n`) }).catch(async (err) => {
      // A write into the models folder that fails (full disk, permissions) names the file, not a stack.
      const inside = isFsError(err) && typeof err.path === 'string' && !path.relative(dir, err.path).startsWith('..');
      throw inside ? await mapFsError(err, err.path!) : err;
    });
    if (result.built.length === 0 && values['quiet-if-ready']) return EXIT.ok;
    const parts = [result.built.length && `built ${result.built.join(', ')}`, result.ready.length && `already built ${result.ready.join(', ')}`].filter(Boolean);
    io.out(`models in ${dir}: ${parts.join('; ')}\n`);
    return EXIT.ok;
  }

  if (action === 'list') {
    if (!existsSync(dir)) throw new PhenofaceError('E_NOT_FOUND', `Models folder "${values.dir ?? dir}" does not exist. Expected a folder built by \`phenoface models build\`.`);
    const manifest = loadManifest(dir);
    const models = Object.fromEntries(MODEL_NAMES.map((name) => {
      const entry = manifest.models[name];
      return [name, { ...entry, status: modelStatus(name, dir) }];
    }));
    if (values.json) {
      io.out(`${JSON.stringify({ contract: 1, dir, models })}\n`);
      return EXIT.ok;
    }
    for (const [name, m] of Object.entries(models)) {
      if (!m.source) {
        io.out(`${name}: not in the manifest (run \`phenoface models build\`)\n`);
        continue;
      }
      const shape = (v: { name: string; dims: (number | string)[] }) => `${v.name}[${v.dims.join(',')}]`;
      io.out(`${name} (${m.status}): ${m.description}\n`);
      io.out(`  ${m.inputs.map(shape).join(' ')} -> ${m.outputs.map(shape).join(' ')}; input (x - ${m.normalisation.mean}) * ${m.normalisation.scale}, ${m.normalisation.channels}\n`);
      io.out(`  from ${m.source.package}@${m.source.version}: ${m.source.files.map((f) => f.path).join(', ')} (${m.license}); onnx sha256 ${m.onnx.sha256}\n`);
    }
    return EXIT.ok;
  }

  throw usageError(action ? `Unknown action "${action}". Should be one of: ${ACTIONS.join(', ')}.` : `No action given. Should be one of: ${ACTIONS.join(', ')}.`, USAGE);
};
