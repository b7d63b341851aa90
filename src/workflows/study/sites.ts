/**
 * The study's leave-one-site-out step (`study --validate-by COLUMN`), beside its grouped K-fold:
 * the column's values from the manifest, the validation itself, and its held-out predictions
 * (`site-predictions.csv`, from which `metrics.json`'s `sites.bySite` can be recomputed).
 */
import { writeFile } from 'node:fs/promises';
import { formatCsv } from '../../data/csv.ts';
import type { Dataset, PhotoResult } from '../../data/index.ts';
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
 * the step that holds out each value in turn (logging each site's warnings); undefined when not asked.
 */
export function prepareSiteValidation(rows: StudyData & { y: number[]; subjects: string[] }, used: PhotoResult[], dataset: Pick<Dataset, 'mode' | 'positive'>, classifier: Classifier, opts: SiteStepOptions, log: (text: string) => void): (() => Promise<SiteValidation>) | undefined {
  const column = opts.validateBy;
  if (column === undefined) return undefined;
  if (['path', 'subject', 'label', 'view'].includes(column)) {
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: "${column}" is one of the manifest's own columns, not a site: holding out each of its values would ${column === 'label' ? 'leave a class out of training' : column === 'view' ? 'test on a view never trained on' : 'hold out single photos or people, which the folds already do'}. Give a column such as source (the site).`);
  }
  if (!used.some((p) => p.item.meta[column] !== undefined)) {
    const columns = [...new Set(used.flatMap((p) => Object.keys(p.item.meta)))].sort();
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: no row has a "${column}" value. Columns with values: ${columns.join(', ') || 'none besides path, subject, label, view'}.`);
  }
  // With three or more classes `y` pools the negatives, so the classes are passed to see which a site's model lacks.
  const classes = dataset.mode ? { label: used.map((p) => p.item.label), positive: dataset.positive, ranking: dataset.mode === 'ranking' } : undefined;
  const input = { ...rows, column, site: used.map((p) => p.item.meta[column]), classifier, seed: opts.seed, prevalence: opts.prevalence, bootstrap: opts.bootstrap, ...(opts.features ? { features: opts.features } : {}), ...(classes ? { classes } : {}) };
  const { sites } = siteFolds(input);
  return async () => {
    log(`study: leave-one-${column}-out validation over ${sites.length} values...\n`);
    const v = await validateBySite(input);
    for (const s of v.sites) for (const w of v.bySite[s].warnings) log(`study: warning: --validate-by ${column}: ${w}\n`);
    return v;
  };
}

/**
 * Writes `site-predictions.csv`: each photo as scored by the model trained without its site, with
 * that model's thresholds, so that every per-site figure can be recomputed from the file (a person's
 * score is the mean of their photos', positive iff it is >= `subjectThreshold`). Probabilities and
 * thresholds are written in full (not rounded as in predictions.csv): rounding could move a score
 * across its threshold, and the file would no longer give the figures it is there to check.
 */
export async function writeSitePredictions(file: string, v: SiteValidation, dataset: Pick<Dataset, 'positive' | 'negative'>): Promise<void> {
  const label = (y: number) => (y ? dataset.positive : dataset.negative);
  await writeFile(file, formatCsv(
    ['path', 'subject', 'label', 'view', 'site', 'probability', 'photoThreshold', 'subjectThreshold'],
    v.predictions.map((p) => [p.path, p.subject, label(p.label), p.view ?? '', p.site, p.probability, p.thresholds.photo, p.thresholds.subject]),
  ));
}
