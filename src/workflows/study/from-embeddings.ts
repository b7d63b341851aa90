/**
 * A study's features from precomputed embeddings (`study --embeddings FILE.jsonl`) instead of the
 * photos: the records of `phenoface embed`, matched to the manifest by path. This is the pooled
 * multi-site study: each site embeds its own photos, and only vectors leave the hospital.
 */
import { UNNAMED_BACKBONE } from '../../classify/bundle.ts';
import { loadDatasetEmbeddings, type EmbeddingOrigin } from '../../data/embedding-file.ts';
import type { Dataset, PhotoResult } from '../../data/index.ts';
import { backbones } from '../../embed/registry.ts';
import { PhenofaceError } from '../../errors.ts';
import { esc } from '../../report/index.ts';

/** What the study learns from, read from an embeddings file. */
export interface StudyEmbeddings {
  results: PhotoResult[];
  contentHashes: Map<string, string>;
  origin: EmbeddingOrigin;
  /** The backbone name the study and bundle record: the records' own, else `backbone` as given, else {@link UNNAMED_BACKBONE}. */
  backbone: string;
  /**
   * The second network whose vectors every matched photo's record carries beside the backbone's
   * (`secondEmbedding`), which the embedding block then reads as a study from the photos does.
   */
  secondBackbone?: string;
}

/**
 * Reads and matches the file (one E_INPUT listing every problem with its line). `backbone`, when
 * given, must agree with the backbone the records name, and a backbone installed here must have
 * the records' dimension (E_INPUT otherwise): the bundle would otherwise screen photos with a
 * network whose vectors it was not trained on.
 */
export async function readStudyEmbeddings(file: string, dataset: Dataset, backbone: string | undefined, log: (text: string) => void): Promise<StudyEmbeddings> {
  const { photos, origin, unused, contentHashes } = await loadDatasetEmbeddings(file, dataset);
  if (backbone !== undefined && origin.backbone !== null && backbone !== origin.backbone) {
    throw new PhenofaceError('E_INPUT', `--backbone ${backbone} does not match the embeddings in ${origin.file}, which are of "${origin.backbone}". Leave --backbone out, or give the records' backbone.`);
  }
  checkInstalledDimension(origin.file, 'embeddings', 'backbone', origin.backbone, origin.dimension);
  if (origin.second) checkInstalledDimension(origin.file, 'second embeddings', 'network', origin.second.backbone, origin.second.dimension);
  const { second, note } = secondVectors(photos, origin);
  log(`study: ${dataset.items.length} photos matched to records of ${origin.file} (${origin.dimension}-D, ${origin.backbone ?? 'backbone not named'}${second ? `, with ${second}'s ${origin.second!.dimension}-D vectors beside them` : ''}, vectors L2-normalised)${unused ? `; ${unused} records not in the manifest were left out` : ''}\n`);
  if (note) log(note);
  return { results: photos, contentHashes, origin, backbone: origin.backbone ?? backbone ?? UNNAMED_BACKBONE, ...(second ? { secondBackbone: second } : {}) };
}

/**
 * E_INPUT when `name`, a network installed here, gives vectors of another dimension than the
 * file's vectors of that name (`what`: which vectors, `noun`: what the records call the network).
 */
function checkInstalledDimension(file: string, what: string, noun: string, name: string | null, dimension: number): void {
  const installed = name === null ? undefined : backbones()[name];
  if (installed && installed.dim !== dimension) {
    throw new PhenofaceError('E_INPUT', `The ${what} in ${file} name ${noun} "${name}" but have ${dimension} dimensions; the "${name}" installed here gives ${installed.dim}. They come from another network of that name: rename it, or embed with this installation.`);
  }
}

/**
 * The second network the embedding block reads from the file, when every matched photo's record
 * carries its vector. When only some do, none is read (the block must read the same columns for
 * every photo, as it does from the photos), the vectors are dropped from `photos`, and `note`
 * says so.
 */
function secondVectors(photos: PhotoResult[], origin: EmbeddingOrigin): { second?: string; note?: string } {
  const embedded = photos.filter((p) => p.embedding);
  const carrying = embedded.filter((p) => p.secondEmbedding).length;
  if (carrying === 0 || !origin.second) return {};
  if (carrying === embedded.length) return { second: origin.second.backbone };
  for (const p of photos) delete p.secondEmbedding;
  return { note: `study: only ${carrying} of ${embedded.length} photos' records in ${origin.file} carry ${origin.second.backbone}'s vector beside the backbone's; the study reads the backbone's alone (embed every photo with one version of phenoface to have both)\n` };
}

/** The report's explanation section when the study had vectors but no pixels to explain. */
export function noPixelsSection(origin: EmbeddingOrigin): { id: string; title: string; html: string } {
  return {
    id: 'explanations',
    title: 'What the model looks at',
    html: `<p>Not analysed: this study read precomputed embeddings (<code>${esc(origin.file)}</code>), not photos. Heat maps and region scores need each photo's pixels and the backbone's network; run the study on the photos themselves, where they are, to see them.</p>`,
  };
}
