/**
 * The screening page: choose photos of one patient (drag and drop, file picker, camera on devices
 * that have one), check them against the server's limits, send them, show the result.
 */
import type { ScreenPhoto, ScreenResult } from '../../src/workflows/screen/result.ts';
import type { HealthResponse, ModelInfo } from '../../src/server/api-types.ts';
import { api, ApiFailure } from './api.ts';
import { h, replace } from './dom.ts';
import { bytesText, errorAdvice } from './format.ts';
import { resultView } from './result-view.ts';

const ACCEPT = 'image/jpeg,image/png,image/webp,image/gif,image/tiff,image/avif,image/heic,image/heif';

interface Selected { file: File; url: string }

/** The page's state and elements; built once and kept across route changes. */
export class ScreenView {
  readonly element: HTMLElement;
  private selected: Selected[] = [];
  private busy = false;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLParagraphElement;
  private readonly screenButton: HTMLButtonElement;
  private readonly clearButton: HTMLButtonElement;
  private readonly results: HTMLElement;
  private readonly cameraLabel: HTMLLabelElement;

  constructor(private readonly ctx: { health(): HealthResponse | undefined; model(): ModelInfo | undefined; onUnauthorized(): void }) {
    const fileInput = h('input', { type: 'file', id: 'file-input', multiple: true, accept: ACCEPT, class: 'visually-hidden', 'data-testid': 'file-input' });
    const cameraInput = h('input', { type: 'file', id: 'camera-input', accept: 'image/*', capture: 'environment', class: 'visually-hidden' });
    for (const input of [fileInput, cameraInput]) {
      input.addEventListener('change', () => { this.add([...(input.files ?? [])]); input.value = ''; });
    }
    this.cameraLabel = h('label', { for: 'camera-input', class: 'button secondary', hidden: true }, 'Take a photo');
    const drop = h('div', { class: 'dropzone', id: 'dropzone' },
      h('p', { class: 'drop-title' }, 'Drag photos of one patient here, or'),
      h('div', { class: 'drop-buttons' }, fileInput, h('label', { for: 'file-input', class: 'button' }, 'Choose photos'), cameraInput, this.cameraLabel),
      h('p', { class: 'hint', id: 'upload-hint' }, this.hintText()),
    );
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('dragging'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('dragging');
      this.add([...(e.dataTransfer?.files ?? [])]);
    });
    this.list = h('ul', { class: 'selected', 'aria-label': 'Chosen photos' });
    this.screenButton = h('button', { type: 'button', class: 'button primary', disabled: true, 'data-testid': 'screen-button', onclick: () => void this.screen() }, 'Screen photos');
    this.clearButton = h('button', { type: 'button', class: 'button secondary', disabled: true, onclick: () => this.clear() }, 'Clear');
    this.status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'status' });
    this.results = h('div', { class: 'results', 'data-testid': 'results' });
    this.element = h('div', { class: 'screen-page' },
      h('section', { class: 'upload card no-print', 'aria-labelledby': 'upload-title' },
        h('h1', { id: 'upload-title' }, 'Screen a patient'),
        drop,
        this.list,
        h('div', { class: 'actions' }, this.screenButton, this.clearButton),
        this.status,
      ),
      this.results,
    );
    void detectCamera().then((has) => { this.cameraLabel.hidden = !has; });
  }

  /** Refreshes texts that depend on the server's limits (after /api/health answers). */
  refresh(): void {
    const hint = this.element.querySelector('#upload-hint');
    if (hint) hint.textContent = this.hintText();
  }

  private limits() {
    return this.ctx.health()?.limits ?? { maxFiles: 10, maxFileBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 };
  }

  private hintText(): string {
    const l = this.limits();
    return `Up to ${l.maxFiles} photos, ${bytesText(l.maxFileBytes)} each (JPEG, PNG, WebP, GIF, TIFF or AVIF). Frontal photos give the most accurate result; add oblique or profile photos if you have them.`;
  }

  private add(files: File[]): void {
    const l = this.limits();
    const problems: string[] = [];
    for (const file of files) {
      if (this.selected.length >= l.maxFiles) { problems.push(`At most ${l.maxFiles} photos at a time: "${file.name}" was not added.`); continue; }
      if (file.size > l.maxFileBytes) { problems.push(`"${file.name}" is ${bytesText(file.size)}; the limit is ${bytesText(l.maxFileBytes)}.`); continue; }
      if (file.size === 0) { problems.push(`"${file.name}" is empty.`); continue; }
      this.selected.push({ file, url: URL.createObjectURL(file) });
    }
    this.renderList();
    this.say(problems.join(' '), problems.length > 0);
  }

  private remove(index: number): void {
    const [gone] = this.selected.splice(index, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    this.renderList();
    const buttons = this.list.querySelectorAll<HTMLButtonElement>('button');
    (buttons[Math.min(index, buttons.length - 1)] ?? this.screenButton).focus();
  }

  /** Forgets the photos and the result (nothing of them is kept in the browser either). */
  clear(): void {
    for (const s of this.selected) URL.revokeObjectURL(s.url);
    this.selected = [];
    this.renderList();
    replace(this.results);
    this.say('');
    this.element.querySelector<HTMLElement>('#upload-title')?.focus?.();
  }

  private renderList(): void {
    replace(this.list, ...this.selected.map((s, i) => h('li', { class: 'selected-item' },
      h('img', { src: s.url, alt: '', class: 'thumb' }),
      h('span', { class: 'selected-name' }, s.file.name),
      h('span', { class: 'selected-size muted' }, bytesText(s.file.size)),
      h('button', { type: 'button', class: 'button small secondary', 'aria-label': `Remove ${s.file.name}`, disabled: this.busy, onclick: () => this.remove(i) }, 'Remove'),
    )));
    const n = this.selected.length;
    this.screenButton.disabled = this.busy || n === 0;
    this.screenButton.textContent = this.busy ? 'Screening…' : n <= 1 ? 'Screen photo' : `Screen ${n} photos`;
    this.clearButton.disabled = this.busy || (n === 0 && !this.results.hasChildNodes());
  }

  private say(text: string, isError = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
  }

  private async screen(): Promise<void> {
    if (this.busy || this.selected.length === 0) return;
    const sent = [...this.selected];
    this.busy = true;
    this.renderList();
    this.say(`Screening ${sent.length} photo${sent.length === 1 ? '' : 's'}…`);
    replace(this.results);
    const slow = setTimeout(() => this.say(`Screening ${sent.length} photo${sent.length === 1 ? '' : 's'}… this can take a minute when others are screening too.`), 8000);
    try {
      const result = await this.screenWithRetry(sent);
      this.show(result, sent);
      const usable = result.subject.photos;
      const notScreened = result.photos.filter((p) => p.error).map((p) => `"${p.path}"`);
      const rest = notScreened.length ? ` Not screened: ${notScreened.join(', ')} (see the message on each below).` : '';
      this.say(`Done: ${usable} of ${sent.length} photo${sent.length === 1 ? '' : 's'} screened.${rest}`);
    } catch (err) {
      const e = err instanceof ApiFailure ? err : new ApiFailure(0, 'E_INTERNAL', String(err));
      if (e.status === 401) { this.ctx.onUnauthorized(); this.say('This server needs an access token; enter it below, then screen again.', true); return; }
      if (e.status === 422 && e.body?.photos) {
        this.show(noResult(e.body.photos, this.ctx.model()), sent);
        this.say('No photo could be screened. See the message for each photo below.', true);
      } else {
        const advice = errorAdvice(e.code);
        this.say(advice && advice !== e.message ? `${advice} (${e.message})` : e.message, true);
      }
    } finally {
      clearTimeout(slow);
      this.busy = false;
      this.renderList();
    }
  }

  /** Sends the photos; when the server is busy (503), waits the Retry-After it gave and tries again, twice at most. */
  private async screenWithRetry(sent: Selected[]): Promise<ScreenResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await api.screen(sent.map((s) => s.file));
      } catch (err) {
        if (!(err instanceof ApiFailure) || err.status !== 503 || attempt >= 2) throw err;
        const waitSec = Math.min(60, Math.max(1, err.retryAfterSec ?? 5));
        this.say(`The server is busy with other screenings; trying again in ${waitSec} s…`);
        await new Promise((r) => setTimeout(r, waitSec * 1000));
        this.say(`Screening ${sent.length} photo${sent.length === 1 ? '' : 's'}…`);
      }
    }
  }

  private show(result: ScreenResult, sent: Selected[]): void {
    replace(this.results, resultView(result, sent.map((s) => s.url), this.ctx.model(), { onClear: () => this.clear() }));
    this.results.querySelector<HTMLElement>('#result-title')?.focus();
  }
}

/** A result with no usable photo (the 422 answer), to show the per-photo messages. */
function noResult(photos: ScreenPhoto[], model: ModelInfo | undefined): ScreenResult {
  return {
    contract: 1,
    subject: { probability: null, label: null, threshold: model?.thresholds?.subject ?? 0.5, photos: 0 },
    photos,
    model: { id: model?.id ?? '?', backbone: model?.backbone ?? '?', ...(model?.features ? { features: model.features } : {}), ...(model?.reads ? { reads: model.reads } : {}), positive: model?.positive ?? 'positive', negative: model?.negative ?? 'negative' },
    disclaimer: 'A screening aid, not a diagnosis.',
  };
}

/** True on devices with a camera (or a touch screen, where `capture` opens one). */
async function detectCamera(): Promise<boolean> {
  if (matchMedia('(pointer: coarse)').matches) return true;
  try {
    const devices = await navigator.mediaDevices?.enumerateDevices();
    return devices?.some((d) => d.kind === 'videoinput') ?? false;
  } catch {
    return false;
  }
}
