/**
 * The console in a real browser: Debian's Chromium (/usr/bin/chromium) driven by playwright-core, against
 * a synced mirror served by the real server. `CONSOLE_SCREENSHOTS=1` also writes docs/console-*.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessScheduler, startInProcessScheduler } from '../../src/demo/inProcessScheduler.ts';
import { type ConsoleWorld, consoleWorld, HOSTILE_ERROR, HOSTILE_FILENAME, SYNC, TOKEN } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.CONSOLE_SCREENSHOTS ? 'docs' : undefined;

describe.skipIf(!existsSync(CHROMIUM))('console in Chromium', () => {
  let w: ConsoleWorld;
  let browser: Browser;
  let context: BrowserContext;
  let scheduler: InProcessScheduler | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    w = await consoleWorld();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    // The token a user would type into the console's prompt (kept in sessionStorage).
    await context.addInitScript({
      content: `sessionStorage.setItem('retab-mirror-token', ${JSON.stringify(TOKEN)})`,
    });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await scheduler?.stop();
    await browser?.close();
    await w?.close();
  });

  /** A page that records console errors, uncaught exceptions and any dialog (an injected alert()). */
  async function open(hash: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error on ${hash}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught on ${hash}: ${err.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog on ${hash}: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${w.base}/${hash}`);
    return page;
  }

  /** Pixels drawn on every canvas inside `selector` (uPlot draws on canvas). */
  async function drawnPixels(page: Page, selector: string): Promise<number> {
    return page.$eval(selector, (root) => {
      let n = 0;
      for (const c of root.querySelectorAll('canvas')) {
        const ctx = c.getContext('2d');
        if (!ctx || c.width === 0 || c.height === 0) continue;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) n++;
      }
      return n;
    });
  }

  const shot = async (page: Page, name: string, fullPage = false) => {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/console-${name}.png`, fullPage });
  };

  it('every page loads against a synced mirror with no console errors, and its charts draw', async () => {
    const overview = await open('#/overview');
    await overview.waitForSelector('#chart-jobs canvas');
    await overview.waitForSelector('#chart-duration canvas');
    expect(await drawnPixels(overview, '#chart-jobs')).toBeGreaterThan(500);
    expect(await drawnPixels(overview, '#chart-duration')).toBeGreaterThan(200);
    expect(await overview.locator('.status-counts').textContent()).toMatch(/completed/);
    await shot(overview, 'overview', true);

    const jobs = await open('#/jobs');
    await jobs.waitForSelector('table tbody tr a');
    expect(await jobs.locator('tbody tr').count()).toBe(50);
    await shot(jobs, 'jobs');

    const id = await jobs.locator('tbody tr a').first().textContent();
    const job = await open(`#/jobs/${id}`);
    await job.waitForSelector('.timeline li');
    expect(await job.locator('h1').textContent()).toContain(id);
    expect(await job.locator('pre.json').count()).toBe(0); // payloads load only when asked
    // Retab's retry counter is one of the job's fields (the simulator sends attempt_count).
    const attempts = w.mirror.sqlite.prepare('SELECT attempt_count AS n FROM jobs WHERE id = ?').get(id) as {
      n: number | null;
    };
    expect(attempts.n).not.toBeNull();
    expect(await job.locator('dl.fields dt', { hasText: /^attempts$/ }).count()).toBe(1);
    expect(await job.locator('dl.fields dt:text-is("attempts") + dd').textContent()).toBe(String(attempts.n));
    await job.locator('details.payload summary').first().click();
    await job.getByRole('button', { name: /Load request/ }).click();
    await job.waitForSelector('pre.json');
    await shot(job, 'job');

    const sync = await open('#/sync');
    await sync.waitForSelector('#chart-upstream canvas');
    expect(await drawnPixels(sync, '#chart-upstream')).toBeGreaterThan(100);
    expect(await sync.locator('table').first().textContent()).toMatch(/head/);

    const alerts = await open('#/alerts');
    await alerts.waitForSelector('#live-list li');
    expect(await alerts.locator('#live-state').textContent()).toBe('live');

    for (const p of [overview, jobs, job, sync, alerts]) await p.close();
    expect(problems).toEqual([]);
  });

  it('without the token the page asks for it, then reads with it', async () => {
    const fresh = await browser.newContext();
    try {
      const page = await fresh.newPage();
      page.on('pageerror', (err) => problems.push(`uncaught on token prompt: ${err.message}`));
      await page.goto(`${w.base}/#/jobs`);
      await page.getByLabel('MIRROR_API_TOKEN').fill('wrong');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByText('The token was refused').waitFor();
      await page.getByLabel('MIRROR_API_TOKEN').fill(TOKEN);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForSelector('tbody tr a');
    } finally {
      await fresh.close();
    }
    expect(problems).toEqual([]);
  });

  it('a filter changes the results and the URL', async () => {
    const page = await open('#/jobs');
    await page.waitForSelector('tbody tr a');
    const before = await page.locator('tbody tr a').first().textContent();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/#\/jobs\?status=failed/);
    await page.waitForFunction(
      "[...document.querySelectorAll('tbody .badge')].every((b) => b.textContent === 'failed')",
    );
    const statuses = await page.locator('tbody .badge').allTextContents();
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['failed']));
    expect(await page.locator('tbody tr a').first().textContent()).not.toBe(before);
    // The URL is the view: opening it fresh shows the same filter.
    const again = await open(`#/jobs?status=failed`);
    await again.waitForSelector('tbody tr a');
    expect(await again.getByLabel('Status').inputValue()).toBe('failed');
    await page.close();
    await again.close();
    expect(problems).toEqual([]);
  });

  it('a download that fails says so on the page (no uncaught error)', async () => {
    const page = await open('#/jobs?status=failed');
    await page.waitForSelector('tbody tr a');
    await page.route('**/console/api/export*', (r) =>
      r.fulfill({ status: 503, contentType: 'application/json', body: '{"detail":"busy, try later"}' }),
    );
    await page.getByRole('button', { name: 'Download CSV' }).click();
    await page.locator('#export-status', { hasText: 'busy, try later' }).waitFor({ timeout: 5000 });
    await page.close();
    // The 503 itself is logged by the browser as a failed resource; anything else is a problem.
    expect(problems.filter((p) => !/status of 503/.test(p))).toEqual([]);
    problems.length = 0;
  });

  it('the skip link (first Tab stop) moves focus to the content and keeps the view', async () => {
    const page = await open('#/jobs?status=failed');
    await page.waitForSelector('tbody tr a');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.className')).toBe('skip');
    await page.keyboard.press('Enter');
    await page.waitForFunction("document.activeElement?.id === 'main'");
    expect(new URL(page.url()).hash).toBe('#/jobs?status=failed');
    expect(await page.locator('h1').first().textContent()).toBe('Jobs');
    await page.close();
    expect(problems).toEqual([]);
  });

  it('a status change in the simulator appears in the live stream within 3 s', async () => {
    // The demo's in-process scheduler (no Redis), with no run listener, as the demo starts it.
    scheduler = startInProcessScheduler({
      deps: { ...w.deps, now: Date.now },
      config: {
        ...SYNC,
        headOverlapSeconds: 300,
        sources: ['api', 'project', 'workflow'],
        headEveryMs: 1000,
        activeEveryMs: 300,
        hydrateEveryMs: 60_000,
      },
    });
    const page = await open('#/alerts');
    await page.locator('#live-state', { hasText: /^live$/ }).waitFor();
    const failed = w.sim.store.all().find((j) => j.status === 'failed');
    if (!failed) throw new Error('no failed job to retry');
    w.sim.store.retry(failed.id); // failed → queued upstream
    const started = Date.now();
    await page
      .waitForSelector(`#live-list li[data-job="${failed.id}"] .status-queued`, { timeout: 3000 })
      .catch((err: Error) => {
        const runs = w.mirror.sqlite
          .prepare('SELECT task, outcome, events FROM sync_runs ORDER BY id DESC LIMIT 8')
          .all();
        throw new Error(`${err.message}\nlast sync runs: ${JSON.stringify(runs)}`);
      });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await page.locator(`#live-list li[data-job="${failed.id}"]`).first().textContent()).toMatch(
      /failed\s*→\s*queued/,
    );
    await page.close();
    expect(problems).toEqual([]);
  });

  it('"Retry" resends a dead letter to the local receiver', async () => {
    const page = await open('#/alerts');
    const button = page.locator(`button[data-retry="${w.deadLetterId}"]`);
    await button.waitFor();
    // The hostile error message of the dead letter is shown as text.
    expect(await page.locator('.error-text', { hasText: 'onmouseover' }).first().textContent()).toBe(
      HOSTILE_ERROR,
    );
    await button.click();
    await page.locator('.notice', { hasText: /./ }).waitFor();
    expect(await page.locator('.notice').textContent()).toBe(`Dead letter #${w.deadLetterId} delivered.`);
    const resent = w.received.map((r) => JSON.parse(r.body).eventId);
    expect(resent).toEqual([w.deadLetterEventId]);
    await page.locator(`button[data-retry="${w.deadLetterId}"]`).waitFor({ state: 'detached' });
    await shot(page, 'alerts', true);
    await page.close();
    if (SHOTS) {
      // With the scheduler of the live-stream test running: lag on time, recent runs.
      const sync = await open('#/sync');
      await sync.waitForSelector('#chart-upstream canvas');
      await shot(sync, 'sync');
      await sync.close();
    }
    expect(problems).toEqual([]);
  });

  it('"Replay…" on a sink asks where to start and rewinds that sink\'s cursor there', async () => {
    const page = await context.newPage();
    page.on('pageerror', (err) => problems.push(`uncaught on #/alerts: ${err.message}`));
    const asked: string[] = [];
    page.on('dialog', (d) => {
      asked.push(d.type());
      void d.accept('1');
    });
    await page.goto(`${w.base}/#/alerts`);
    const button = page.getByRole('button', { name: 'Replay…' }).first();
    await button.waitFor();
    await button.click();
    await page.locator('.notice', { hasText: /cursor set to/ }).waitFor();
    expect(asked).toEqual(['prompt']);
    expect(await page.locator('.notice').textContent()).toMatch(
      /cursor set to 0; the dispatcher re-delivers from #1\./,
    );
    await page.close();
    expect(problems).toEqual([]);
  });

  it('a filename of <img src=x onerror=alert(1)>.pdf renders as text', async () => {
    const page = await open(`#/jobs?filename_contains=${encodeURIComponent('onerror')}`);
    await page.waitForSelector('tbody tr a');
    expect(await page.locator('tbody .filenames').allTextContents()).toEqual([HOSTILE_FILENAME]);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('tbody td', { hasText: 'batch_id=<script>alert(2)</script>' }).count()).toBe(1);
    expect(await page.locator('main script').count()).toBe(0);
    const job = await open(`#/jobs/${w.hostileJobId}`);
    await job.waitForSelector('.timeline li');
    expect(await job.locator('main img').count()).toBe(0);
    await page.close();
    await job.close();
    expect(problems).toEqual([]);
  });
});
