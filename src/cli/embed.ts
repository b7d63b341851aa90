/**
 * `phenoface embed <images or folders...> | --manifest FILE [--out FILE.jsonl] [--backbone NAME]`:
 * one JSON line per photo with the chosen face and its embedding (contract v1).
 */
import path from 'node:path';
import { prepareOutputFile } from '../data/output.ts';
import { DEFAULTS } from '../config.ts';
import { backbones, secondBackboneOf } from '../embed/registry.ts';
import { PipelinePool } from '../pipeline/pool.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { ProgressCounter } from '../data/progress.ts';
import { runOrdered } from './batch.ts';
import { CONTRACT, errorJson, errorLine, faceJson, faceText, printableLine } from './format.ts';
import { namedAsGiven } from '../errors.ts';
import { expandInputs, manifestInputs } from './inputs.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface embed`'s options. */
export const EMBED = defineCommand({
  name: 'embed',
  synopsis: '<images or folders...> | --manifest FILE',
  description: 'Aligns and embeds the chosen face of each photo: one JSON line per photo (contract v1) into --out, or on\nstandard output with --json; without either, a line of text per photo.',
  args: {
    manifest: { type: 'string', placeholder: 'FILE', inSynopsis: true, description: 'CSV whose "path" column lists the photos (relative to it), instead of photos' },
    out: { type: 'string', short: 'o', placeholder: 'FILE.jsonl', defaultText: 'standard output', description: 'write the JSON lines here (replaced only once every line is written)' },
    backbone: { type: 'string', placeholder: 'NAME', values: () => Object.keys(backbones()), default: DEFAULTS.embed.backbone, description: 'embedding network' },
    flip: { type: 'boolean', description: 'also embed the mirrored face and sum the two vectors (the flip test)' },
    json: { type: 'boolean', description: 'the JSON lines on standard output (what --out writes) instead of a line of text per photo' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress or summary on stderr' },
  },
  examples: ['phenoface embed photos/ --out embeddings.jsonl', 'phenoface embed --manifest study.csv --backbone dlib-resnet -o embeddings.jsonl'],
});

const USAGE = usageLine(EMBED);

export const run: Command = async (argv, io) => {
  const { values, positionals, help } = parseCommand(EMBED, argv);
  if (help) { io.out(helpText(EMBED)); return EXIT.ok; }
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
    // JSON lines into --out, or on stdout with --json; otherwise a line of text per photo.
    const json = file !== undefined || values.json;
    // The records also carry the second network's vector that a study's embedding block reads
    // beside the backbone's (features.secondBackbone), so that a study or screening from this file
    // learns what one from the photos would.
    const second = json ? secondBackboneOf(values.backbone) : undefined;
    const pool = pipeline = await PipelinePool.create({ backbone: values.backbone, flip: values.flip, photos: items.length, ...(second ? { second } : {}) });
    const write = (line: string) => (file ? file.write(line) : io.out(line));
    const progress = new ProgressCounter(io, 'embed', items.length, !values.quiet && items.length > 20);
    const { failed } = await runOrdered(items, pool.capacity, (item) => (item.refused ? Promise.reject(item.refused) : pool.embedFile(item.abs)), (item, o) => {
      progress.tick();
      if (!o.ok) { write((json ? errorJson : errorLine)(item.path, namedAsGiven(o.error, item.abs, item.path))); return; }
      const { face, embedding, quality, faces, secondEmbedding } = o.value;
      if (!json) {
        const flags = quality.flags.length ? `; quality: ${quality.flags.join(', ')}` : '';
        write(printableLine(`${item.path}: ${faceText(face)}${faces.length > 1 ? ` (of ${faces.length} faces)` : ''}, ${embedding.vector.length}-D ${embedding.backbone} embedding${flags}`) + '\n');
        return;
      }
      write(JSON.stringify({
        contract: CONTRACT,
        path: item.path,
        face: faceJson(face),
        faces: faces.length,
        quality: quality.flags,
        backbone: embedding.backbone,
        embedding: Array.from(embedding.vector, (v) => Math.round(v * 1e6) / 1e6),
        ...(second && secondEmbedding ? { secondEmbedding: { backbone: second, embedding: Array.from(secondEmbedding, (v) => Math.round(v * 1e6) / 1e6) } } : {}),
      }) + '\n');
    }, file ? undefined : io.outputClosed);
    await file?.commit();
    if (!values.quiet && !values.json && !io.outputClosed?.aborted) {
      io.err(`embed: ${items.length - failed} of ${items.length} photos embedded${values.out ? ` -> ${values.out}` : '; the vectors are written by --out FILE.jsonl or --json'}\n`);
    }
    return failed > 0 ? EXIT.partial : EXIT.ok;
  } catch (err) {
    await file?.abort();
    throw err;
  } finally {
    await pipeline?.close();
  }
};
