/**
 * Progress on stderr for long runs (embedding a data set takes minutes to hours on 2 cores).
 * On a terminal a cli-progress bar redraws in place; anywhere else (a log file, CI) redrawing
 * would flood the log, so one plain line is printed every 5% of the work or every 10 s (at most
 * one a second), and one for the end of each phase.
 */
import { createRequire } from 'node:module';
import { DEFAULTS } from '../config.ts';
import type { EmbedProgress } from './embed-dataset.ts';

/** Where progress goes: the `err` and `isTTY` of the CLI's `CliIO`, plus the terminal width if known. */
export interface ProgressSink {
  err(text: string): void;
  isTTY: boolean;
  columns?: number;
}

/** The slice of cli-progress's SingleBar used here (the package ships no types). */
interface SingleBar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}
type SingleBarConstructor = new (options: Record<string, unknown>) => SingleBar;
const require = createRequire(import.meta.url);
const { SingleBar: CliSingleBar } = require('cli-progress') as { SingleBar: SingleBarConstructor };

/** `75`, `4m 05s`, `2h 03m`: a duration for humans. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * What a progress line shows: a phase's count, rate and ETA, and the photos found cached or failed
 * so far. A dataset embedding reports its phases (`hash`, `embed`); a batch command has one,
 * unnamed (`phase: ''`).
 */
export type ProgressUpdate = Pick<EmbedProgress, 'done' | 'total' | 'cached' | 'failed' | 'ratePerSec' | 'etaSec'> & { phase: string };

/** What is counted, in rates: `photos` unless said otherwise (cross-validation counts `fits`). */
const DEFAULT_UNIT = 'photos';

/** `study embed`, or the label alone for an unnamed phase. */
function heading(label: string, phase: string): string {
  return phase ? `${label} ${phase}` : label;
}

/** One progress line without a bar: `embed 140/1400 (10%), 3.2 photos/s, ETA 6m 33s, 12 cached, 2 failed`. */
export function formatProgressLine(label: string, p: ProgressUpdate, unit = DEFAULT_UNIT): string {
  const pct = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
  const extras = [p.cached > 0 ? `${p.cached} cached` : '', p.failed > 0 ? `${p.failed} failed` : ''].filter(Boolean);
  return `${heading(label, p.phase)} ${p.done}/${p.total} (${pct}%), ${p.ratePerSec.toFixed(1)} ${unit}/s, ETA ${formatDuration(p.etaSec)}${extras.map((e) => `, ${e}`).join('')}`;
}

/**
 * A progress reporter to pass as `embedDataset`'s `onProgress` (`reporter.update`); call `stop()`
 * at the end. A new phase starts a new bar. Every phase that reaches its total shows it: the bar's
 * last drawing, or without a terminal a last line (also when the phase's first update is its last).
 */
export class ProgressReporter {
  private bar?: SingleBar;
  private phase?: string;
  private lastDone = 0;
  private lastTimeMs = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly now: () => number = Date.now,
    private readonly unit = DEFAULT_UNIT,
  ) {}

  /** Record progress; redraws (terminal) or prints a line when due (elsewhere). */
  update = (p: ProgressUpdate): void => {
    if (p.phase !== this.phase) this.finishPhase();
    const starting = p.phase !== this.phase;
    this.phase = p.phase;
    if (p.total === 0) return;
    if (this.sink.isTTY) {
      const payload = { label: heading(this.label, p.phase), rate: p.ratePerSec.toFixed(1), etaText: formatDuration(p.etaSec), extra: this.extra(p) };
      if (starting) {
        this.bar = new CliSingleBar({
          // cli-progress only needs write() and isTTY; readline's cursor moves are written as escapes.
          stream: { isTTY: true, columns: this.sink.columns ?? 80, write: (s: string) => (this.sink.err(s), true) },
          format: `{label} [{bar}] {percentage}% {value}/{total} | {rate} ${this.unit}/s | ETA {etaText}{extra}`,
          barsize: 30,
          hideCursor: false,
        });
        this.bar.start(p.total, p.done, payload);
      } else this.bar?.update(p.done, payload);
      return;
    }
    const t = this.now();
    const finished = p.done === p.total;
    if (starting) {
      this.lastTimeMs = t;
      this.lastDone = finished ? -1 : p.done; // a phase done at its first update still prints its line
    }
    const step = Math.max(1, Math.ceil(p.total * DEFAULTS.data.progressStepFraction));
    const sinceMs = t - this.lastTimeMs;
    const stepDue = !starting && p.done - this.lastDone >= step && sinceMs >= DEFAULTS.data.progressMinIntervalSec * 1000;
    const timeDue = !starting && sinceMs >= DEFAULTS.data.progressIntervalSec * 1000 && p.done > this.lastDone;
    if (stepDue || timeDue || (finished && p.done !== this.lastDone)) {
      this.sink.err(formatProgressLine(this.label, p, this.unit) + '\n');
      this.lastDone = p.done;
      this.lastTimeMs = t;
    }
  };

  /** End the current bar; safe to call more than once. */
  stop(): void {
    this.finishPhase();
  }

  private extra(p: ProgressUpdate): string {
    return [p.cached > 0 ? ` | ${p.cached} cached` : '', p.failed > 0 ? ` | ${p.failed} failed` : ''].join('');
  }

  private finishPhase(): void {
    if (this.bar) {
      this.bar.stop(); // leaves the final bar on screen and ends its line
      this.bar = undefined;
    }
    this.phase = undefined;
  }
}

/**
 * Progress of a batch counted one finished item at a time (`tick()`), shown by a
 * {@link ProgressReporter} so that batch commands and dataset embedding print the same bar and
 * lines: the rate is items over the time since construction, the ETA the items left at that rate.
 * Off (`enabled` false) for short batches, where progress would only be noise. `unit` names the
 * items in the rate (`photos`, `fits`); `startMs` is when the work began, when that was before the
 * counter was made (the total known only from the first finished item).
 */
export class ProgressCounter {
  private done = 0;
  private readonly reporter: ProgressReporter;
  private readonly startMs: number;

  constructor(
    sink: ProgressSink,
    label: string,
    private readonly total: number,
    private readonly enabled = total > 20,
    private readonly now: () => number = Date.now,
    unit = DEFAULT_UNIT,
    startMs = now(),
  ) {
    this.reporter = new ProgressReporter(sink, label, now, unit);
    this.startMs = startMs;
  }

  /** One more item finished; the last one ends the bar. */
  tick(): void {
    this.advanceTo(this.done + 1);
  }

  /** `done` items finished in all (counts from a source that reports totals, e.g. a pool's). */
  advanceTo(done: number): void {
    this.done = done;
    if (!this.enabled) return;
    const elapsedSec = (this.now() - this.startMs) / 1000;
    const ratePerSec = this.done / Math.max(elapsedSec, 1e-3);
    this.reporter.update({ phase: '', done: this.done, total: this.total, cached: 0, failed: 0, ratePerSec, etaSec: (this.total - this.done) / ratePerSec });
    if (this.done >= this.total) this.reporter.stop();
  }

  /** End the bar early (the work failed); safe to call more than once. */
  stop(): void {
    this.reporter.stop();
  }
}
