/**
 * The model page: what the model was trained on, how well it did in cross-validation (overall and
 * per view), what it is for and what it cannot do. Shows whatever the bundle provides.
 */
import type { Counts, LevelMetrics, ModelInfo, TrainingSummary } from '../../src/server/api-types.ts';
import type { View } from '../../src/types.ts';
import { noEvidenceStatement } from '../../src/evaluate/post-test.ts';
import { h } from './dom.ts';
import { className, figureText, metricCells, pct, VIEW_TEXT } from './format.ts';

const VIEWS: View[] = ['frontal', 'oblique', 'profile'];

/** Human text for a value of unknown shape: numbers, per-key counts, lists. */
function valueText(v: unknown): string {
  if (typeof v === 'number') return v.toLocaleString();
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(valueText).join(', ');
  if (v && typeof v === 'object') return Object.entries(v).map(([k, x]) => `${className(k)}: ${valueText(x)}`).join('; ');
  return String(v);
}

function labelText(key: string): string {
  const spaced = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[-_]/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

const countText = (c: Counts | undefined) => (c ? `${c.subjects.toLocaleString()} people, ${c.photos.toLocaleString()} photos` : '–');

/** The training data as label/value rows: totals, per class, per view, the data hash, then other fields. */
function trainingRows(t: TrainingSummary): [string, string][] {
  const rows: [string, string][] = [];
  const s = t.summary;
  if (s?.total) rows.push(['In the data set', countText(s.total)]);
  if (t.subjectsUsed !== undefined || t.photosUsed !== undefined) rows.push(['Used (a face found)', `${t.subjectsUsed ?? '–'} people, ${t.photosUsed ?? '–'} photos`]);
  for (const [cls, c] of Object.entries(s?.byClass ?? {})) rows.push([className(cls), countText(c)]);
  if (s?.byView) rows.push(['Photos by view', Object.entries(s.byView).map(([v, c]) => `${v} ${c.photos}`).join(', ')]);
  if (t.datasetHash) rows.push(['Data set fingerprint', `${t.datasetHash.slice(0, 16)}…`]);
  const known = new Set(['summary', 'subjectsUsed', 'photosUsed', 'datasetHash', 'warnings']);
  for (const [k, v] of Object.entries(t)) if (!known.has(k) && v !== undefined && v !== null) rows.push([labelText(k), valueText(v)]);
  return rows;
}

function metricsTable(info: ModelInfo): HTMLElement {
  const m = info.metrics;
  if (!m) return h('p', { class: 'muted' }, 'This model bundle holds no cross-validated figures.');
  const rows: [string, LevelMetrics | undefined, 'people' | 'photos'][] = [
    ['Per patient, all views', m.subject, 'people'],
    ['Per photo, all views', m.photo, 'photos'],
    ...VIEWS.flatMap((v): [string, LevelMetrics | undefined, 'people' | 'photos'][] => {
      const b = m.byView?.[v];
      return b ? [[`${VIEW_TEXT[v].label} photos${b.subject && !b.photo ? ' (per patient)' : ''}`, b.photo ?? b.subject, b.photo ? 'photos' : 'people']] : [];
    }),
  ];
  const cv = m.folds && m.repeats ? `${m.folds}-fold subject-grouped cross-validation, repeated ${m.repeats} times` : 'subject-grouped cross-validation';
  return h('table', { class: 'metrics' },
    h('caption', {}, `Validated performance (${cv}; 95% intervals in brackets)`),
    h('thead', {}, h('tr', {}, ...['', 'Sensitivity', 'Specificity', 'AUC', 'n'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.filter(([, l]) => l).map(([label, l, unit]) => {
      const c = metricCells(l, unit);
      return h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, c.sensitivity), h('td', {}, c.specificity), h('td', {}, c.auc), h('td', {}, c.n));
    })),
  );
}

/** A ranking model's top-k accuracy per patient and per photo beside a random ranking's. */
function rankingTable(info: ModelInfo): HTMLElement | string {
  const r = info.ranking;
  if (!r) return '';
  const ks = ['top1', 'top3', 'top5', 'top10'].filter((k, i) => i === 0 || Number(k.slice(3)) < r.classes.length);
  const row = (label: string, cells: string[]) => h('tr', {}, h('th', { scope: 'row' }, label), ...cells.map((c) => h('td', {}, c)));
  return h('section', { class: 'card', 'aria-labelledby': 'model-ranking' },
    h('h2', { id: 'model-ranking' }, 'Ranked differential'),
    h('p', {}, `The model ranks ${r.classes.length} classes: ${r.classes.map(className).join(', ')}. The figures above are ${className(info.positive)} against all the others.`),
    h('table', { class: 'metrics' },
      h('caption', {}, 'Top-k accuracy: how often the true class was among the first k (95% intervals in brackets)'),
      h('thead', {}, h('tr', {}, h('th', {}, ''), ...ks.map((k) => h('th', { scope: 'col' }, `Top-${k.slice(3)}`)))),
      h('tbody', {},
        row('Per patient', ks.map((k) => figureText(r.metrics.subject?.[k]))),
        row('Per photo', ks.map((k) => figureText(r.metrics.photo?.[k]))),
        row('A random ranking', ks.map((k) => pct(r.metrics.chance?.uniform?.[k]))),
      ),
    ),
  );
}

/** The model page for `info`, headed by the no-evidence statement when the AUC interval per person reaches 0.5. */
export function modelView(info: ModelInfo): HTMLElement {
  const facts: [string, string][] = [
    ['Model', info.id],
    // A bundle names its backbone even when the model leaves the embedding out: say what it reads.
    info.reads ? ['Reads', info.reads] : ['Face-recognition backbone', info.secondBackbone ? `${info.backbone}, with ${info.secondBackbone}'s embedding beside its own` : info.backbone],
    ['Screens for', className(info.positive)],
    ['Compared against', className(info.negative)],
  ];
  if (info.classifier) facts.push(['Classifier', info.classifier]);
  if (info.thresholds) facts.push(['Decision threshold', `a score of ${pct(info.thresholds.subject, 1)} per person (${pct(info.thresholds.photo, 1)} per photo)`]);
  if (info.createdAt) facts.push(['Trained', new Date(info.createdAt).toLocaleDateString()]);
  const training = info.training ? trainingRows(info.training) : [];
  // A bare number carries no interval, so it cannot show that the AUC reaches chance.
  const auc = info.metrics?.subject?.auc;
  const evidence = noEvidenceStatement(typeof auc === 'object' ? auc : undefined);
  return h('div', { class: 'model-page' },
    h('h1', { tabindex: '-1', id: 'model-title' }, 'About the model'),
    info.synthetic ? h('p', { class: 'synthetic-banner', role: 'note' }, 'Demonstration model trained on synthetic data: not a clinical model. Its results mean nothing about real patients.') : '',
    // Above the figures: an AUC of 0.68 in the table reads as a working test.
    evidence ? h('p', { class: 'synthetic-banner', role: 'note', 'data-testid': 'model-no-evidence' }, evidence) : '',
    h('section', { class: 'card', 'aria-labelledby': 'model-facts' },
      h('h2', { id: 'model-facts' }, 'Identity'),
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'model-training' },
      h('h2', { id: 'model-training' }, 'Training data'),
      training.length
        ? h('dl', { class: 'facts' }, ...training.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))
        : h('p', { class: 'muted' }, 'The bundle holds no training-data summary.'),
      info.training?.warnings?.length ? h('div', {}, h('h3', {}, 'Warnings raised while training'), h('ul', { class: 'warnings' }, ...info.training.warnings.map((w) => h('li', {}, w)))) : '',
    ),
    h('section', { class: 'card', 'aria-labelledby': 'model-metrics' },
      h('h2', { id: 'model-metrics' }, 'Cross-validated performance'),
      metricsTable(info),
      h('p', { class: 'muted small' }, 'Sensitivity: share of affected people flagged (in a per-photo row, of their photos, each scored alone). Specificity: share of unaffected people not flagged (per photo: of their photos). AUC: how well scores separate the two groups (0.5 is chance, 1 is perfect). Each patient\'s photos were kept within one fold, so the figures do not reward recognising a person.'),
    ),
    rankingTable(info),
    h('section', { class: 'card', 'aria-labelledby': 'model-use' },
      h('h2', { id: 'model-use' }, 'Intended use'),
      h('p', {}, info.intendedUse ?? 'To help clinicians decide whom to refer for genetic testing for 22q11.2 deletion syndrome.'),
      h('p', { class: 'strong-note' }, 'Phenoface is a screening aid, not a diagnosis. Only genetic testing confirms 22q11.2 deletion syndrome.'),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'model-limits' },
      h('h2', { id: 'model-limits' }, 'Limitations'),
      h('ul', {}, ...(info.limitations?.length ? info.limitations : ['The bundle lists no limitations; assume the figures hold only for people and photos like those it was trained on.']).map((l) => h('li', {}, l))),
    ),
  );
}
