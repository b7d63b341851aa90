/**
 * The one file that imports onnxruntime-node (architecture.md: only `runtime/` touches the
 * inference runtime; transformers.js keeps it to `backends/onnx.js` the same way). Everything
 * else sees plain `{data, dims}` float tensors.
 */
import * as ort from 'onnxruntime-node';
import { PhenofaceError } from '../errors.ts';

disableRuntimeTelemetry();

/**
 * Turns off onnxruntime's telemetry, which otherwise writes a device id and a SQLite database of
 * loaded models under `~/.cache/Microsoft/DeveloperTools/.onnxruntime`. onnxruntime-node has no API
 * for it; its native library reads `ORT_DISABLE_TELEMETRY` from the process environment when its
 * first session is created. Worker threads share the process environment but not `process.env`
 * writes, so the main thread must call this before any worker creates a session: the CLI's entry
 * point and every main-thread import of this module do.
 */
export function disableRuntimeTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
}

/** A dense float32 tensor in row-major order. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** What stages need from a loaded network. */
export interface InferenceModel {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the network; feeds and results are keyed by the model's input/output names. */
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  dispose(): Promise<void>;
}

/** Session options a caller may set. */
export interface SessionOptions {
  /** Threads one operator may use (onnxruntime `intraOpNumThreads`); 0 lets onnxruntime choose. */
  threads: number;
}

/** An ONNX model loaded into an onnxruntime CPU session with full graph optimisation. */
export class OnnxModel implements InferenceModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Path or label, for error messages. */
    readonly source: string,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Loads a model file (or in-memory ONNX bytes).
   * @throws PhenofaceError `E_MODEL` when the file is missing or onnxruntime rejects it.
   */
  static async load(model: string | Uint8Array, opts: SessionOptions): Promise<OnnxModel> {
    if (!Number.isInteger(opts.threads) || opts.threads < 0) {
      throw new PhenofaceError('E_CONFIG', `Invalid thread count: ${opts.threads}. Should be an integer >= 0.`);
    }
    const source = typeof model === 'string' ? model : `<${model.length} bytes>`;
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Several sessions (P/R/O-Net, backbone) run one after another on the same cores: worker threads
      // that spin-wait after each run steal the cores the next session needs, so they sleep instead.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    };
    try {
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      return new OnnxModel(session, source);
    } catch (cause) {
      throw new PhenofaceError('E_MODEL', `Cannot load ONNX model ${source}: ${(cause as Error).message}. Rebuild the models with \`npx phenoface models build\`.`, { cause });
    }
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new PhenofaceError('E_MODEL', `Model ${this.source} has no input "${name}". Should be one of: ${this.inputNames.join(', ')}.`);
      }
      const size = t.dims.reduce((a, b) => a * b, 1);
      if (size !== t.data.length) {
        throw new PhenofaceError('E_MODEL', `Input "${name}" of ${this.source}: dims [${t.dims}] need ${size} values, got ${t.data.length}.`);
      }
      inputs[name] = new ort.Tensor('float32', t.data, t.dims);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(inputs);
    } catch (cause) {
      const shapes = Object.entries(feeds).map(([n, t]) => `${n}[${t.dims}]`).join(', ');
      throw new PhenofaceError('E_MODEL', `Model ${this.source} failed on ${shapes}: ${(cause as Error).message}`, { cause });
    }
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
