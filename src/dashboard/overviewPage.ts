/**
 * The overview: `status` as the invoker (kill switch, paused jobs, per job type queued, running,
 * failed; DLQ counts; breakers) and the charts of the last 24 hours from the rollups, read in one
 * round of queries.
 */
import { run, show, type Page } from './pageContext.ts';

export const overviewPage: Page = async (ctx) => {
  const [status, series] = await Promise.all([run(ctx, 'status'), ctx.front.ops.runSeries()]);
  // JSON in a data block is not run as script; `<` is escaped so the text cannot close the element.
  const json = JSON.stringify(series).replace(/</g, '\\u003c');
  const charts =
    '<section class="panel"><h2>Last 24 hours</h2>' +
    (series.t.length ? '' : '<p class="muted">No runs in the last 24 hours.</p>') +
    `<script type="application/json" id="run-series">${json}</script>` +
    '<div class="charts"><div><h3>Runs per minute by outcome</h3><div id="chart-runs"></div></div>' +
    '<div><h3>Duration: p95, mean and max per point (ms)</h3><div id="chart-durations"></div></div></div></section>';
  return { title: 'Overview', body: show(ctx, status, { 0: (job) => `/ui/jobs?job=${encodeURIComponent(job)}` }) + charts, charts: true };
};
