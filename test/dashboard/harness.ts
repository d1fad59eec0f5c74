/**
 * The dashboard as `serve` mounts it (registerDashboard on our HttpServer, port 0) over a test
 * app, a Chromium driven by playwright-core (Debian's `chromium`; CHROMIUM_PATH overrides), and
 * signing in the way a user does: run `dashboard` as a chat user, open the link, press Sign in.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Invoker } from '../../src/chat/dispatcher.ts';
import { registerDashboard } from '../../src/dashboard/routes.ts';
import { HttpServer } from '../../src/http/server.ts';
import { startTestApp, type TestApp, type TestAppOptions } from '../support/app.ts';
import { TestClock } from '../support/clock.ts';
import { testLogger } from '../support/engine.ts';
import { onCleanup } from '../support/mongo.ts';

export interface DashboardHarness {
  app: TestApp;
  /** The app's clock: move it instead of back-dating tokens. */
  clock: TestClock;
  base: string;
  browser: Browser;
  /** A sign-in link made by the `dashboard` command as `invoker`. */
  link(invoker: Invoker): Promise<string>;
  /** A fresh browser context signed in as `invoker`, on the overview. */
  signIn(invoker: Invoker): Promise<{ context: BrowserContext; page: Page }>;
}

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function startDashboard(opts: TestAppOptions = {}): Promise<DashboardHarness> {
  // The port first: the links the `dashboard` command makes point at DASHBOARD_URL.
  const http = new HttpServer(testLogger());
  const port = await http.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const clock = new TestClock();
  const app = await startTestApp({ work: false, clock, ...opts, config: { ...opts.config, DASHBOARD_URL: base } });
  registerDashboard(app.frontEnd, http);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  onCleanup(async () => {
    await browser.close();
    await http.close();
  });
  const link = async (invoker: Invoker) => {
    const r = await app.dispatcher.run('dashboard', invoker);
    if (r.status !== 'ok') throw new Error(`dashboard command: ${r.reply.text}`);
    return (r.reply.data as { url: string }).url;
  };
  return {
    app,
    clock,
    base,
    browser,
    link,
    async signIn(invoker) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(await link(invoker));
      await page.getByRole('button', { name: /^Sign in as/ }).click();
      await page.waitForURL(`${base}/ui`);
      return { context, page };
    },
  };
}
