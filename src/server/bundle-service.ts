/**
 * The real screening service: `Screener` from `src/workflows/screen/screener.ts`, explained by `dataUrlExplainer`
 * from `src/workflows/screen/explainer.ts` (heatmaps as PNG data URLs; nothing written). `serve` hosts it in a
 * worker thread (`./thread-service.ts`).
 */
import { dataUrlExplainer } from '../workflows/screen/explainer.ts';
import { Screener } from '../workflows/screen/screener.ts';
import { bufferView } from '../pipeline/threads.ts';
import type { ModelInfo, ModelMetrics, ScreenService, TrainingSummary } from './types.ts';

/**
 * Loads the model bundle in `modelDir` as a {@link ScreenService}: E_BUNDLE from `Screener.load`
 * when bad, E_MODEL when its explanation files are. Those are read now, not on the first photo: a
 * damaged one would otherwise fail every screening after a clean start, each web user being shown
 * the message, which names the file by its path on this machine.
 */
export async function loadScreenService(modelDir: string): Promise<ScreenService> {
  const screener = await Screener.load(modelDir);
  const explainer = dataUrlExplainer(screener);
  try {
    await explainer.prepare?.();
  } catch (err) {
    await explainer.dispose?.().catch(() => undefined); // rejects again with `err`
    await screener.close();
    throw err;
  }
  return {
    info: () => apiModelInfo(screener),
    screen: (photos, opts) => screener.screen(photos.map(({ name, bytes }) => ({ name, bytes: bufferView(bytes) })), { ...(opts?.explain ? { explain: explainer } : {}), ...(opts?.prevalence !== undefined ? { prevalence: opts.prevalence } : {}) }),
    close: async () => {
      await explainer.dispose?.();
      await screener.close();
    },
  };
}

/**
 * The screener's model facts as the API shapes them. The bundle loads the training summary and the
 * metrics `study` wrote without checking their shape (it types them as `unknown` and records of
 * unknowns); the API describes those same objects with every field optional, which is how the UI
 * reads them.
 */
function apiModelInfo(screener: Screener): ModelInfo {
  const info = screener.info();
  return {
    ...info,
    training: { ...info.training, summary: info.training.summary as TrainingSummary['summary'] },
    metrics: info.metrics as ModelMetrics,
  };
}
