/**
 * Ack latency of `/ops status` over signed HTTP with 100 000 jobs in the database: the time from
 * sending the slash command until Slack would get its HTTP 200 (the answer itself follows on the
 * response_url). Run: `node bench/slackAck.ts` (MONGODB_URL, else a local server in a temp dir).
 */
import { ObjectId } from 'mongodb';
import { createApp } from '../src/app/index.ts';
import { startSlack, SLACK_EVENTS_PATH } from '../src/chat/adapters/slack/index.ts';
import { loadConfig } from '../src/config.ts';
import { HttpServer } from '../src/http/server.ts';
import { silentLogger } from '../src/log.ts';
import { benchDb } from './support.ts';
import { signSlackRequest, slashCommandBody, startFakeSlack } from '../test/support/fakeSlack.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 100_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100);
const SECRET = 'bench-signing-secret-0123456789';

const bench = await benchDb('bench_slack');
const db = bench.db;
const fake = await startFakeSlack();
const http = new HttpServer(silentLogger());
try {
  const now = Date.now();
  for (let i = 0; i < JOBS; i += 1000) {
    await db.collection('agendaJobs').insertMany(
      Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({ _id: new ObjectId(), name: 'http.invoke', data: { i: i + k }, priority: 0, type: 'normal', nextRunAt: new Date(now + 3600_000), lockedAt: null })),
    );
  }
  const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fake.apiUrl, SLACK_ADMIN_USER_IDS: 'U_BENCH' });
  const app = createApp({ config, db, log: silentLogger() });
  await app.engine.start({ work: false });
  const slack = await startSlack(app, http);
  const port = await http.listen(0, '127.0.0.1');
  // Bolt starts in the background; until then /ops gets an instant "still connecting" reply.
  await slack.connected;
  const url = `http://127.0.0.1:${port}${SLACK_EVENTS_PATH}`;
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const body = slashCommandBody({ command: '/ops', text: 'status', userId: 'U_BENCH', channelId: 'C_BENCH', responseUrl: fake.responseUrl(`r${i}`) });
    const start = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(body, SECRET) }, body });
    await res.text();
    times.push(performance.now() - start);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))].toFixed(1);
  console.log(`/ops status ack with ${JOBS} jobs, ${REQUESTS} requests: p50 ${q(50)} ms, p99 ${q(99)} ms, max ${times.at(-1)!.toFixed(1)} ms`);
  await slack.stop();
  app.engine.settings.stop();
  await app.stop(0);
} finally {
  await http.close();
  await fake.close();
  await bench.close();
  process.exit(0);
}
