/**
 * `phenoface embed <images or folders...> | --manifest FILE [--out FILE.jsonl] [--backbone NAME]`:
 * one JSON line per photo with the chosen face and its embedding (contract v1).
 */
import path from 'node:path';
import { prepareOutputFile } from '../data/output.ts';
import { PipelinePool } from '../pipeline/pool.ts';
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
  // Checked and staged before any model loads; the target is replaced only once every line is written.
  const file = values.out ? await prepareOutputFile(path.resolve(io.cwd, values.out), {
    option: '--out',
    shown: values.out,
    inputs: [
      ...items.filter((it) => it.abs).map((it) => ({ abs: it.abs, shown: it.path })),
      ...(values.manifest ? [{ abs: path.resolve(io.cwd, values.manifest), shown: values.manifest }] : []),
    ],
  }) : undefined;
  let pipeline: PipelinePool | undefined;
  try {
    // Worker threads, one pipeline per core (onnxruntime-node runs on the calling thread).
    const pool = pipeline = await PipelinePool.create({ backbone: values.backbone, flip: values.flip, photos: items.length });
    const write = (line: string) => (file ? file.write(line) : io.out(line));
    const progress = new Progress(io, 'embed', items.length, !values.quiet && items.length > 20);
    const { failed } = await runOrdered(items, pool.capacity, (item) => (item.refused ? Promise.reject(item.refused) : pool.embedFile(item.abs)), (item, o) => {
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
    await file?.commit();
    if (values.out && !values.quiet) io.err(`embed: ${items.length - failed} of ${items.length} photos embedded -> ${values.out}\n`);
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } catch (err) {
    await file?.abort();
    throw err;
  } finally {
    await pipeline?.close();
  }
};
