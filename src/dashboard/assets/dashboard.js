// The overview's charts: reads the series the page embeds as JSON (#run-series) and draws them
// with uPlot. Loaded from our own origin; the CSP allows no inline script.
'use strict';
(function () {
  const data = document.getElementById('run-series');
  if (!data || typeof uPlot === 'undefined') return;
  const s = JSON.parse(data.textContent);
  const width = () => Math.min(1100, document.querySelector('main').clientWidth - 20);
  const runs = document.getElementById('chart-runs');
  const durations = document.getElementById('chart-durations');
  const line = (label, stroke) => ({ label, stroke, width: 2, points: { show: s.t.length < 3 } });
  const charts = [];
  if (runs) {
    charts.push(new uPlot(
      { width: width(), height: 220, scales: { x: { time: true } }, axes: [{}, { label: 'runs/min' }],
        series: [{}, line('ok', '#2e7d32'), line('failed', '#ef6c00'), line('dead', '#c62828'), line('aborted', '#6d4c41')] },
      [s.t, s.ok, s.failed, s.dead, s.aborted], runs));
  }
  if (durations) {
    charts.push(new uPlot(
      { width: width(), height: 220, scales: { x: { time: true } }, axes: [{}, { label: 'ms' }],
        series: [{}, line('p95 ms', '#c62828'), line('mean ms', '#1565c0'), line('max ms', '#8e24aa')] },
      [s.t, s.p95Ms, s.meanMs, s.maxMs], durations));
  }
  document.body.dataset.chartsDrawn = String(charts.length);
  window.addEventListener('resize', () => charts.forEach((c) => c.setSize({ width: width(), height: 220 })));
})();
