/**
 * The web dashboard in a real browser (Chromium through playwright-core): sign-in with a chat
 * link (once, not after expiry), nothing without a session, roles (a viewer sees no retry button,
 * a forged POST is refused and audited), an admin's retry and confirmed delete of dead letters,
 * and the overview chart drawn from seeded rollups. Screenshots go to test/artifacts/.
 */
import { SIGNIN_TTL_MS } from '../../src/auth/signInLinks.ts';
import { mkdirSync } from 'node:fs';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JobRunDoc } from '../../src/db/collections.ts';
import type { RunSeries } from '../../src/ops/runSeries.ts';
import { seedRollups } from '../alerting/helpers.ts';
import { asUser } from '../support/app.ts';
import { startDashboard, type DashboardHarness } from './harness.ts';

const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;
const admin = asUser('admin', 'U_ADMIN');
const viewer = asUser('viewer', 'U_VIEWER');
let h: DashboardHarness;
const dl: ObjectId[] = [];
const OK_RUNS = 90;
const FAILED_RUNS = 30;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startDashboard();
  const db = h.app.t.db;
  await h.app.ops.identities.grant('slack', admin.actor.id, 'admin', admin.actor, admin.actor.name);
  const now = Date.now();
  for (let i = 0; i < 3; i++) {
    const { insertedId } = await db.collection('deadLetters').insertOne({
      jobId: new ObjectId().toHexString(), generation: 0, jobName: 'http.invoke', payload: { url: `https://example.test/${i}` },
      error: { message: `upstream answered 502 (#${i})`, class: 'ProviderError' }, attempts: 5, reason: 'retries_exhausted',
      firstFailedAt: new Date(now - 3600_000), lastFailedAt: new Date(now - 60_000 * (i + 1)), status: 'pending', createdAt: new Date(now),
    });
    dl.push(insertedId);
  }
  const runs: JobRunDoc[] = [];
  for (let i = 0; i < OK_RUNS + FAILED_RUNS; i++) {
    const startedAt = new Date(now - ((i * 37_000) % 3_000_000) - 60_000);
    runs.push({ _id: new ObjectId(), jobId: 'x', jobName: i % 2 ? 'http.invoke' : 'feeds.sync', attempt: 1, startedAt, finishedAt: new Date(startedAt.getTime() + 40 + (i % 7) * 30), durationMs: 40 + (i % 7) * 30, outcome: i < OK_RUNS ? 'success' : 'failed', error: i < OK_RUNS ? undefined : { message: 'boom', class: 'Error' }, counts: {}, telemetry: [], worker: 'w', timeoutMs: 1 } as JobRunDoc);
  }
  await seedRollups(db, runs);
});

const audits = (action: string) => h.app.ops.audit.list({ action, limit: 50 });

describe('dashboard sign-in', () => {
  it('answers every page without a session with the sign-in hint and nothing else', async () => {
    for (const path of ['/ui', '/ui/dlq', '/ui/jobs', '/ui/audit', '/ui/config', '/ui/dlq.csv']) {
      const res = await fetch(`${h.base}${path}`);
      const html = await res.text();
      expect(res.status, path).toBe(401);
      expect(html).toContain('sign-in link from chat');
      expect(html).not.toMatch(/<table|<a |<form|<script/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
  });

  it('signs in with a chat link once; the link is refused the second time and after 10 minutes', async () => {
    const url = await h.link(viewer);
    expect(url.startsWith(`${h.base}/ui/signin?t=`)).toBe(true);
    const context = await h.browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('button', { name: 'Sign in as viewer-user' }).click();
    await page.waitForURL(`${h.base}/ui`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
    const cookie = (await context.cookies()).find((c) => c.name === 'sb_dashboard');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });

    const other = await (await h.browser.newContext()).newPage();
    const again = await other.goto(url);
    expect(again?.status()).toBe(403);
    await expect(other.locator('main').textContent()).resolves.toContain('already used');

    const expired = await h.link(viewer);
    h.clock.advance(SIGNIN_TTL_MS + 1000);
    const late = await other.goto(expired);
    expect(late?.status()).toBe(403);
    await expect(other.locator('main').textContent()).resolves.toContain('expired');
    expect((await audits('dashboard_signin')).some((e) => e.actor.id === viewer.actor.id)).toBe(true);
  });
});

describe('dashboard pages', () => {
  it('draws the overview chart from the rollups', async () => {
    const { page } = await h.signIn(admin);
    await page.waitForSelector('body[data-charts-drawn="2"]');
    expect(await page.locator('#chart-runs canvas').count()).toBe(1);
    const series = JSON.parse((await page.locator('#run-series').textContent()) ?? '{}') as RunSeries;
    // Every point is a kept minute here, so runs per minute summed over the points are the runs.
    expect(Math.round(series.ok.reduce((a, b) => a + b, 0))).toBe(OK_RUNS);
    expect(Math.round(series.failed.reduce((a, b) => a + b, 0))).toBe(FAILED_RUNS);
    await expect(page.locator('main').textContent()).resolves.toContain('3 pending');
    await page.screenshot({ path: `${ARTIFACTS}overview.png`, fullPage: true });
  });

  it('shows a viewer no retry button, and refuses and audits a forged POST', async () => {
    const { context, page } = await h.signIn(viewer);
    await page.goto(`${h.base}/ui/dlq`);
    await expect(page.locator('table tbody tr').count()).resolves.toBe(3);
    expect(await page.getByRole('button', { name: /Retry/ }).count()).toBe(0);
    await page.goto(`${h.base}/ui/dlq?id=${dl[0]}`);
    await expect(page.locator('main').textContent()).resolves.toContain('upstream answered 502');
    expect(await page.getByRole('button', { name: /Retry|Delete/ }).count()).toBe(0);

    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const token = await h.app.tokens.create(`dlq retry ${dl[0]}`, 'Retry');
    const forged = await context.request.post(`${h.base}/ui/act`, { form: { csrf, token, back: '/ui/dlq' } });
    expect(forged.status()).toBe(403);
    const denied = (await audits('dlq_retry')).find((e) => e.actor.id === viewer.actor.id);
    expect(denied?.outcome).toBe('denied');

    const noCsrf = await context.request.post(`${h.base}/ui/act`, { form: { token, back: '/ui/dlq' } });
    expect(noCsrf.status()).toBe(403);
    const refused = (await audits('dashboard_post')).find((e) => e.actor.id === viewer.actor.id);
    expect(refused).toMatchObject({ outcome: 'denied', command: 'POST /ui/act' });
    expect((await h.app.ops.deadLetters.show(String(dl[0]))).status).toBe('pending');
  });

  it('lets an admin retry one dead letter and delete another after confirming', async () => {
    const { page } = await h.signIn(admin);
    await page.goto(`${h.base}/ui/dlq`);
    await page.screenshot({ path: `${ARTIFACTS}dlq.png`, fullPage: true });
    await page.getByRole('link', { name: String(dl[0]) }).click();
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect(page.locator('main').textContent()).resolves.toContain('Retried 1 dead letter');
    expect((await h.app.ops.deadLetters.show(String(dl[0]))).status).not.toBe('pending');

    await page.goto(`${h.base}/ui/dlq?id=${dl[1]}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(page.locator('main').textContent()).resolves.toContain('Delete this dead letter?');
    expect((await h.app.ops.deadLetters.show(String(dl[1]))).status).toBe('pending');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(page.locator('main').textContent()).resolves.toContain('Deleted 1 dead letter');
    expect((await h.app.ops.deadLetters.show(String(dl[1]))).status).toBe('deleted');
    for (const action of ['dlq_retry', 'dlq_delete']) {
      expect((await audits(action)).find((e) => e.actor.id === admin.actor.id && e.outcome === 'ok')).toBeTruthy();
    }
  });

  it('exports the DLQ as CSV for a signed-in user', async () => {
    const { context } = await h.signIn(viewer);
    const res = await context.request.get(`${h.base}/ui/dlq.csv`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/csv');
    expect((await res.text()).split('\n')[0]).toContain('id,job,status');
  });
});
