/**
 * `phenoface embed <images or folders...> | --manifest FILE [--out FILE.jsonl] [--backbone NAME]`:
 * one JSON line per photo with the chosen face and its embedding (contract v1).
 */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { PipelinePool } from '../pipeline-pool.ts';
import { parse, usageError } from './args.ts';
import { Progress, runOrdered } from './batch.ts';
import { CONTRACT, errorJson, faceJson } from './format.ts';
import { expandInputs, manifestInputs } from './inputs.ts';
import { EXIT, type Command } from './io.ts';

const USAGE = 'phenoface embed <images or folders...> | --manifest FILE  [--out FILE.jsonl] [--backbone NAME] [--flip] [--quiet]';

export const run: Command = async (argv, io) => {
  const { values, positionals } = parse(argv, {
    manifest: { type: 'string' },
    out: { type: 'string', short: 'o' },
    backbone: { type: 'string' },
    flip: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  }, USAGE);
  if (values.help) { io.out(`Usage: ${USAGE}\n`); return EXIT.ok; }
  if (values.manifest && positionals.length > 0) throw usageError('Give either photos or --manifest, not both.', USAGE);
  if (!values.manifest && positionals.length === 0) throw usageError('No images, folders or --manifest given.', USAGE);
  const items = values.manifest ? await manifestInputs(values.manifest, io.cwd) : await expandInputs(positionals, io.cwd);
  // Worker threads, one pipeline per core (onnxruntime-node runs on the calling thread).
  const pipeline = await PipelinePool.create({ backbone: values.backbone, flip: values.flip, photos: items.length });
  const stream = values.out ? createWriteStream(path.resolve(io.cwd, values.out)) : undefined;
  const write = (line: string) => (stream ? stream.write(line) : io.out(line));
  const progress = new Progress(io, 'embed', items.length, !values.quiet && items.length > 20);
  try {
    const { failed } = await runOrdered(items, pipeline.capacity, (item) => (item.refused ? Promise.reject(item.refused) : pipeline.embedFile(item.abs)), (item, o) => {
      progress.tick();
      if (!o.ok) { write(errorJson(item.path, o.error)); return; }
      const { face, embedding, quality, faces } = o.value;
      write(JSON.stringify({
        contract: CONTRACT,
        path: item.path,
        face: faceJson(face),
        faces: faces.length,
        quality: quality.flags,
        backbone: embedding.backbone,
        embedding: Array.from(embedding.vector, (v) => Math.round(v * 1e6) / 1e6),
      }) + '\n');
    });
    if (values.out && !values.quiet) io.err(`embed: ${items.length - failed} of ${items.length} photos embedded -> ${values.out}\n`);
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } finally {
    if (stream) { stream.end(); await once(stream, 'close'); }
    await pipeline.close();
  }
};
