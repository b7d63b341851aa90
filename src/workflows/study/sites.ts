/**
 * The study's leave-one-site-out step (`study --validate-by COLUMN`), beside its grouped K-fold:
 * the column's values from the manifest, the validation itself, and its report section.
 */
import type { PhotoResult } from '../../data/index.ts';
import type { Classifier } from '../../classify/types.ts';
import type { FeatureRequest } from '../../features/index.ts';
import type { StudyData } from '../../evaluate/crossval.ts';
import { siteFolds, validateBySite, type SiteValidation } from '../../evaluate/sites.ts';
import { PhenofaceError } from '../../errors.ts';

/** Options the step takes from the study's. */
interface SiteStepOptions {
  validateBy?: string;
  seed?: number;
  prevalence?: number;
  bootstrap?: number;
  /** What the study learns from: each held-out site is scored by the same choice of blocks, made on the training sites. */
  features?: FeatureRequest;
}

/**
 * Checks `opts.validateBy` against the data before anything is fitted (E_MANIFEST when the
 * manifest has no such column, or its values cannot be held out: see `siteFolds`), and returns
 * the step that holds out each value in turn; undefined when not asked.
 */
export function prepareSiteValidation(rows: StudyData & { y: number[]; subjects: string[] }, used: PhotoResult[], classifier: Classifier, opts: SiteStepOptions, log: (text: string) => void): (() => Promise<SiteValidation>) | undefined {
  const column = opts.validateBy;
  if (column === undefined) return undefined;
  if (['path', 'subject', 'label', 'view'].includes(column)) {
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: "${column}" is one of the manifest's own columns, not a site: holding out each of its values would ${column === 'label' ? 'leave a class out of training' : column === 'view' ? 'test on a view never trained on' : 'hold out single photos or people, which the folds already do'}. Give a column such as source (the site).`);
  }
  if (!used.some((p) => p.item.meta[column] !== undefined)) {
    const columns = [...new Set(used.flatMap((p) => Object.keys(p.item.meta)))].sort();
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: no row has a "${column}" value. Columns with values: ${columns.join(', ') || 'none besides path, subject, label, view'}.`);
  }
  const input = { ...rows, column, site: used.map((p) => p.item.meta[column]), classifier, seed: opts.seed, prevalence: opts.prevalence, bootstrap: opts.bootstrap, ...(opts.features ? { features: opts.features } : {}) };
  const { sites } = siteFolds(input);
  return () => {
    log(`study: leave-one-${column}-out validation over ${sites.length} values...\n`);
    return validateBySite(input);
  };
}
