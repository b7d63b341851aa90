/**
 * `phenoface detect <images or folders...> [--json]`: faces, landmarks, pose and view per photo.
 */
import { PipelinePool } from '../pipeline/pool.ts';
import { numberOption, parse, usageError } from './args.ts';
import { Progress, runOrdered } from './batch.ts';
import { CONTRACT, errorJson, faceJson } from './format.ts';
import { expandInputs } from './inputs.ts';
import { EXIT, type Command } from './io.ts';

const USAGE = 'phenoface detect <images or folders...> [--json] [--min-face PX] [--min-face-ratio R] [--quiet]';

export const run: Command = async (argv, io) => {
  const { values, positionals } = parse(argv, {
    json: { type: 'boolean' },
    'min-face': { type: 'string' },
    'min-face-ratio': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  }, USAGE);
  if (values.help) { io.out(`Usage: ${USAGE}\n`); return EXIT.ok; }
  if (positionals.length === 0) throw usageError('No images or folders given.', USAGE);
  const minFaceSizePx = numberOption(values['min-face'], 'min-face', 12, 10_000, USAGE);
  const minFaceRatio = numberOption(values['min-face-ratio'], 'min-face-ratio', 0, 0.99, USAGE);
  const items = await expandInputs(positionals, io.cwd);
  // Worker threads, one pipeline per core (onnxruntime-node runs on the calling thread).
  const pipeline = await PipelinePool.create({
    detectOnly: true,
    photos: items.length,
    config: { detect: { ...(minFaceSizePx !== undefined && { minFaceSizePx }), ...(minFaceRatio !== undefined && { minFaceRatio }) } },
  });
  const progress = new Progress(io, 'detect', items.length, !values.quiet && items.length > 20);
  try {
    const { failed } = await runOrdered(items, pipeline.capacity, (item) => pipeline.detectFile(item.abs), (item, o) => {
      progress.tick();
      if (!o.ok) { io.out(errorJson(item.path, o.error)); return; }
      const { width, height, faces } = o.value;
      if (values.json) {
        io.out(JSON.stringify({ contract: CONTRACT, path: item.path, width, height, faces: faces.map((f) => faceJson(f)) }) + '\n');
      } else {
        const desc = faces.map((f) => `${f.view} (yaw ${f.pose!.yaw.toFixed(0)}°, score ${f.score.toFixed(3)}) at ${Math.round(f.box.x)},${Math.round(f.box.y)} ${Math.round(f.box.width)}x${Math.round(f.box.height)}`);
        io.out(`${item.path}: ${width}x${height}, ${faces.length} face${faces.length === 1 ? '' : 's'}${desc.length ? ': ' + desc.join('; ') : ''}\n`);
      }
    });
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await pipeline.close();
  }
};
