/** The console's shell: the hash router, the token prompt, and one page at a time. */
import './style.css';
import { ApiError, getJson, token } from './api.ts';
import { disposeCharts } from './charts.ts';
import { clear, h } from './dom.ts';
import { renderAlerts } from './pages/alerts.ts';
import { renderJob } from './pages/job.ts';
import { renderJobs } from './pages/jobs.ts';
import { renderOverview } from './pages/overview.ts';
import { renderSync } from './pages/sync.ts';
import { currentRoute } from './route.ts';

interface Session {
  tokenRequired: boolean;
  actions: boolean;
}

const main = document.getElementById('main') as HTMLElement;
const auth = document.getElementById('auth') as HTMLElement;
let session: Session = { tokenRequired: false, actions: false };
let current: AbortController | undefined;

function tokenForm(message: string): HTMLElement {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
  });
  const form = h(
    'form',
    { class: 'card token-form', 'aria-label': 'Token' },
    h('h1', {}, 'Token required'),
    h('p', {}, message),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'MIRROR_API_TOKEN'), input),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Continue')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    token.set(input.value);
    void render();
  });
  return form;
}

function renderAuth(): void {
  clear(auth);
  if (!session.tokenRequired) {
    auth.append(h('span', { class: 'muted' }, 'read-only (no token configured)'));
  } else if (token.get()) {
    auth.append(
      h('span', { class: 'muted' }, session.actions ? 'token set · actions enabled' : 'token set'),
      ' ',
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            token.clear();
            void render();
          },
        },
        'Forget token',
      ),
    );
  } else {
    auth.append(h('span', { class: 'muted' }, 'token needed'));
  }
}

async function render(): Promise<void> {
  current?.abort();
  const ctl = new AbortController();
  current = ctl;
  disposeCharts();
  clear(main);
  renderAuth();
  const route = currentRoute();
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (a.dataset.page === route.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (session.tokenRequired && !token.get()) {
    main.append(
      tokenForm('This server requires a token for every read. It stays in this tab only (sessionStorage).'),
    );
    return;
  }
  main.setAttribute('aria-busy', 'true');
  try {
    if (route.page === 'jobs' && route.rest[0]) await renderJob(main, route.rest[0], ctl.signal);
    else if (route.page === 'jobs') await renderJobs(main, route.params, ctl.signal);
    else if (route.page === 'sync') await renderSync(main, route.params, ctl.signal);
    else if (route.page === 'alerts')
      await renderAlerts(main, route.params, ctl.signal, session.actions && token.get() !== null);
    else await renderOverview(main, route.params, ctl.signal);
    document.title = `${route.page} · retab-mirror console`;
  } catch (err) {
    if (ctl.signal.aborted) return;
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      clear(main);
      main.append(tokenForm('The token was refused; enter it again.'));
      return;
    }
    main.append(
      h(
        'div',
        { class: 'card error', role: 'alert' },
        h('h2', {}, 'Could not load this page'),
        h('p', {}, (err as Error).message),
      ),
    );
  } finally {
    main.removeAttribute('aria-busy');
  }
}

// The skip link moves focus to the content; followed as a link it would replace the view's hash (`#main`)
// and the router would show the overview instead of the page being read.
document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

async function start(): Promise<void> {
  session = await getJson<Session>('/console/api/session');
  window.addEventListener('hashchange', () => void render());
  await render();
}

void start();
