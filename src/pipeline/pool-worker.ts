/**
 * What one {@link PipelinePool} worker thread hosts (see `threads.ts` for the protocol): a
 * {@link Pipeline} of its own, answering embed and detect requests for photos given as file paths
 * or as bytes.
 */
import { Pipeline, type DetectResult, type EmbedResult, type PipelineOptions } from './pipeline.ts';
import { bufferView } from './threads.ts';

/** A photo as it reaches the worker: a file path the worker reads, or the bytes themselves. */
export type PhotoSource = string | Uint8Array;

const asSource = (source: PhotoSource): string | Buffer => (typeof source === 'string' ? source : bufferView(source));

/**
 * The worker's factory: loads the pipeline (E_MODEL when its models are missing) and returns the
 * methods the pool calls.
 */
export async function pipelineWorker(options: PipelineOptions) {
  const pipeline = await Pipeline.create(options);
  return {
    embedFile: (source: PhotoSource): Promise<EmbedResult> => pipeline.embedFile(asSource(source)),
    detectFile: (source: PhotoSource): Promise<DetectResult> => pipeline.detectFile(asSource(source)),
    close: (): Promise<void> => pipeline.close(),
  };
}
