/**
 * `phenoface detect <images or folders...> [--json]`: faces, landmarks, pose and view per photo.
 */
import { DEFAULTS } from '../config.ts';
import { PipelinePool } from '../pipeline/pool.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { ProgressCounter } from '../data/progress.ts';
import { runOrdered } from './batch.ts';
import { CONTRACT, errorJson, errorLine, faceJson, faceText, printableLine } from './format.ts';
import { namedAsGiven } from '../errors.ts';
import { expandInputs } from './inputs.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface detect`'s options. */
export const DETECT = defineCommand({
  name: 'detect',
  synopsis: '<images or folders...>',
  description: 'Finds every face in each photo (folders are walked for images) with its landmarks, head pose and view.',
  args: {
    json: { type: 'boolean', description: 'one JSON line per photo (contract v1) instead of a summary line' },
    'min-face': { type: 'integer', placeholder: 'PX', min: 12, max: 10_000, default: DEFAULTS.detect.minFaceSizePx, description: 'smallest face searched for, in pixels; not a size filter: faces down to about half of it may be listed' },
    'min-face-ratio': { type: 'number', placeholder: 'R', min: 0, max: 0.99, default: DEFAULTS.detect.minFaceRatio, description: "smallest face searched for, relative to the photo's shorter side (0 = off)" },
    landmarks: { type: 'string', placeholder: 'KIND', values: ['dense'], description: `also place each face's dense landmarks (model ${DEFAULTS.landmarks.model}), listed as "landmarksDense" with --json` },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  examples: ['phenoface detect photos/ --json > faces.jsonl', 'phenoface detect photo.jpg --json --landmarks dense'],
});

const USAGE = usageLine(DETECT);

export const run: Command = async (argv, io) => {
  const { values, positionals, help } = parseCommand(DETECT, argv);
  if (help) { io.out(helpText(DETECT)); return EXIT.ok; }
  if (positionals.length === 0) throw usageError('No images or folders given.', USAGE);
  const minFaceSizePx = values['min-face'];
  const minFaceRatio = values['min-face-ratio'];
  const items = await expandInputs(positionals, io.cwd);
  // Worker threads, one pipeline per core (onnxruntime-node runs on the calling thread).
  const pipeline = await PipelinePool.create({
    detectOnly: true,
    landmarks: values.landmarks === 'dense',
    photos: items.length,
    config: { detect: { minFaceSizePx, minFaceRatio } },
  });
  const progress = new ProgressCounter(io, 'detect', items.length, !values.quiet && items.length > 20);
  try {
    const { failed } = await runOrdered(items, pipeline.capacity, (item) => (item.refused ? Promise.reject(item.refused) : pipeline.detectFile(item.abs)), (item, o) => {
      progress.tick();
      if (!o.ok) { io.out((values.json ? errorJson : errorLine)(item.path, namedAsGiven(o.error, item.abs, item.path))); return; }
      const { width, height, faces, turnedFace } = o.value;
      if (values.json) {
        io.out(JSON.stringify({ contract: CONTRACT, path: item.path, width, height, faces: faces.map((f) => faceJson(f)), ...(turnedFace && { turnedFace }) }) + '\n');
      } else {
        const turnNote = turnedFace ? ` (a face is found with the photo turned ${turnedFace} degrees clockwise: its orientation tag may be missing)` : '';
        io.out(printableLine(`${item.path}: ${width}x${height}, ${faces.length} face${faces.length === 1 ? '' : 's'}${faces.length ? ': ' + faces.map((f) => faceText(f) + (f.turned ? `, looks ${f.turned === 180 ? 'upside down' : 'on its side'} (upright with the photo turned ${f.turned} degrees clockwise)` : '')).join('; ') : ''}${turnNote}`) + '\n');
      }
    }, io.outputClosed);
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    await pipeline.close();
  }
};
