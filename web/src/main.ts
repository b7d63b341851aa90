/**
 * The web UI's entry point: routes (`#/` screening, `#/model` model page), the server's health and
 * model card, and the access-token prompt for servers that need one.
 */
import './styles.css';
import type { HealthResponse, ModelInfo } from '../../src/server/api-types.ts';
import { adoptTokenFromHash, api, ApiFailure, setToken } from './api.ts';
import { h, replace } from './dom.ts';
import { modelView } from './model-view.ts';
import { ScreenView } from './screen-view.ts';

const main = document.getElementById('main')!;
const footerModel = document.getElementById('footer-model')!;
let health: HealthResponse | undefined;
let model: ModelInfo | undefined;
let needsToken = false;
let tokenTried = false;

const screenView = new ScreenView({ health: () => health, model: () => model, onUnauthorized: () => { needsToken = true; void route(); } });

function tokenForm(message: string): HTMLElement {
  const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  const form = h('form', { class: 'card token-form', 'aria-labelledby': 'token-title' },
    h('h2', { id: 'token-title' }, 'Access token needed'),
    h('p', { id: 'token-help' }, message),
    h('label', { for: 'token-input' }, 'Access token'),
    input,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Continue')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    needsToken = false;
    tokenTried = true;
    void load();
  });
  queueMicrotask(() => input.focus());
  return form;
}

function errorCard(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return h('section', { class: 'card error-card', role: 'alert' }, h('h2', {}, 'Something went wrong'), h('p', {}, message));
}

/** Loads health and the model card (once, or again after a token is given), then routes. */
async function load(): Promise<void> {
  try {
    [health, model] = await Promise.all([api.health(), api.model()]);
    footerModel.textContent = `Model ${model.id} (${model.reads ? 'reads ' + model.reads : model.backbone})`;
    if (health.keepsPhotos) document.getElementById('footer-privacy')!.textContent = 'This server keeps a copy of every screened photo and result (started with --keep).';
    screenView.refresh();
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) {
      needsToken = true;
      setToken('');
    } else {
      replace(main, errorCard(err));
      return;
    }
  }
  await route();
}

async function route(): Promise<void> {
  const page = location.hash.startsWith('#/model') ? 'model' : 'screen';
  for (const [id, p] of [['nav-screen', 'screen'], ['nav-model', 'model']] as const) {
    const link = document.getElementById(id)!;
    if (p === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (needsToken) {
    replace(main, tokenForm(tokenTried
      ? 'That access token was not accepted. Check it and try again.'
      : 'This Phenoface server is shared on the network and needs the access token it was started with. Ask whoever started it.'));
    return;
  }
  if (page === 'model') {
    replace(main, model ? modelView(model) : errorCard('The model card could not be loaded.'));
    document.title = 'Model · Phenoface';
  } else {
    replace(main, screenView.element);
    document.title = 'Screen · Phenoface';
  }
}

// Dropping a file outside the drop zone must not navigate away (and lose the result).
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());
window.addEventListener('hashchange', () => { void route(); main.focus(); });
adoptTokenFromHash();
void load();
