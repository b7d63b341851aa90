/**
 * The real screening service: `Screener` from `src/screen.ts`, explained by `dataUrlExplainer`
 * from `src/explain/screen.ts` (heatmaps as PNG data URLs; nothing written). The specifiers sit in
 * variables so that the server typechecks whatever those modules look like; their shapes are
 * checked at run time. Without the explainer the service still screens, without heatmaps.
 */
import { PhenofaceError } from '../errors.ts';
import type { ScreenResult } from '../screen-types.ts';
import type { ModelInfo, ScreenService, UploadedPhoto } from './types.ts';

/** The parts of `Screener` the server uses; its `explain` option takes an explainer function. */
interface RealScreener {
  info(): ModelInfo;
  screen(inputs: UploadedPhoto[], opts?: { explain?: unknown }): Promise<ScreenResult>;
  close(): Promise<void>;
}

/** Loads the model bundle in `modelDir` as a {@link ScreenService} (E_BUNDLE from `Screener.load` when bad). */
export async function loadScreenService(modelDir: string, warn: (message: string) => void): Promise<ScreenService> {
  const screenModule = '../screen.ts';
  const explainModule = '../explain/screen.ts';
  const { Screener } = (await import(screenModule)) as { Screener?: { load(dir: string): Promise<RealScreener> } };
  if (typeof Screener?.load !== 'function') throw new PhenofaceError('E_INTERNAL', 'src/screen.ts does not export Screener.load; expected the screening service.');
  const screener = await Screener.load(modelDir);
  let explainer: unknown;
  try {
    const { dataUrlExplainer } = (await import(explainModule)) as { dataUrlExplainer?: (s: RealScreener) => unknown };
    if (typeof dataUrlExplainer !== 'function') throw new Error('src/explain/screen.ts does not export dataUrlExplainer');
    explainer = dataUrlExplainer(screener);
  } catch (err) {
    warn(`Warning: heatmaps are unavailable (${err instanceof Error ? err.message : String(err)}); results come without explanations.`);
  }
  return {
    info: () => screener.info(),
    screen: (photos, opts) => screener.screen(photos, opts?.explain && explainer ? { explain: explainer } : {}),
    close: async () => {
      await (explainer as { dispose?: () => Promise<void> } | undefined)?.dispose?.();
      await screener.close();
    },
  };
}
