/**
 * `phenoface models build [--quiet-if-ready] [--force] [--dir DIR]`: fetch, verify and convert the
 * networks (npm's postinstall runs it with `--quiet-if-ready`).
 * `phenoface models list [--json] [--dir DIR]`: what the manifest records and whether each model is built.
 */
import path, { resolve } from 'node:path';
import { isFsError, mapFsError, prepareOutputFolder } from '../data/output.ts';
import { ensureModels } from '../runtime/build/install.ts';
import { DEFAULT_MODELS_DIR, loadManifest, MODEL_NAMES, modelStatus } from '../runtime/index.ts';
import { parse, usageError } from './args.ts';
import { EXIT, type Command } from './io.ts';

const USAGE = 'phenoface models build [--quiet-if-ready] [--force] [--dir DIR] | phenoface models list [--json] [--dir DIR]';

export const run: Command = async (argv, io) => {
  const { values, positionals } = parse(argv, {
    'quiet-if-ready': { type: 'boolean' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
    dir: { type: 'string' },
  }, USAGE);
  if (values.help) {
    io.out(`Usage: ${USAGE}\n`);
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

  throw usageError(action ? `Unknown action "${action}". Should be one of: build, list.` : 'No action given. Should be one of: build, list.', USAGE);
};
