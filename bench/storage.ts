/**
 * What FerretDB's storage costs a lookup: the same 100 000 documents on the SQLite handler and on
 * the PostgreSQL handler (the machine's PostgreSQL, LOCAL_MONGO_POSTGRESQL_URL), each on a server
 * of its own in a database of its own. Timed: `find({_id})`, a top-level equality that matches
 * one document (`{key}`), and a range that matches ten (`{n: {$gte, $lt}}`), with FerretDB's
 * `explain` saying whether it pushed the filter down to the storage.
 *
 * Run: `node bench/storage.ts` (BENCH_DOCS=100000, BENCH_REPEAT=9,
 * BENCH_STORAGES=sqlite,postgresql). Ignores MONGODB_URL: the figures are about FerretDB.
 * Prints a table and one JSON line, with the load average before each storage.
 */
import os from 'node:os';
import type { Collection, Document } from 'mongodb';
import { benchDb, insertInBatches } from './support.ts';

const DOCS = Number(process.env.BENCH_DOCS ?? 100_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 9);
const STORAGES = (process.env.BENCH_STORAGES ?? 'sqlite,postgresql').split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgresql'>;
delete process.env.MONGODB_URL;

interface Query {
  name: string;
  filter: (i: number) => Document;
  matches: number;
}
const QUERIES: Query[] = [
  { name: 'find({_id})', filter: (i) => ({ _id: `doc-${i}` }), matches: 1 },
  { name: 'find({key})', filter: (i) => ({ key: `k-${i}` }), matches: 1 },
  { name: 'find({n: range})', filter: (i) => ({ n: { $gte: i, $lt: i + 10 } }), matches: 10 },
];

interface Row {
  storage: string;
  source: string;
  loadavg: number[];
  insertMs: number;
  queries: Record<string, { medianMs: number; p90Ms: number; pushdown: boolean | null }>;
}

const rows: Row[] = [];
for (const storage of STORAGES) {
  const loadavg = os.loadavg().map((x) => Number(x.toFixed(2)));
  const bench = await benchDb('bench_storage', storage);
  try {
    const col = bench.db.collection('docs') as unknown as Collection<Document>;
    const t0 = performance.now();
    await insertInBatches(col, DOCS, (i) => ({
      _id: `doc-${i}`,
      key: `k-${i}`,
      n: i,
      name: `job-${i % 20}`,
      status: i % 3 === 0 ? 'done' : 'pending',
      at: new Date(1_700_000_000_000 + i * 1000),
      data: { i, text: 'x'.repeat(64) },
    }));
    const insertMs = performance.now() - t0;
    const queries: Row['queries'] = {};
    for (const q of QUERIES) {
      // One untimed run first: the server's caches and the driver's connection.
      await col.find(q.filter(1)).toArray();
      const times: number[] = [];
      for (let r = 0; r < REPEAT; r++) {
        const i = Math.floor(((r + 0.5) / REPEAT) * DOCS);
        const t = performance.now();
        const found = await col.find(q.filter(i)).toArray();
        times.push(performance.now() - t);
        if (found.length !== q.matches) throw new Error(`${q.name} found ${found.length} documents at ${i}`);
      }
      times.sort((a, b) => a - b);
      queries[q.name] = { medianMs: round(times[Math.floor(times.length / 2)]), p90Ms: round(times[Math.floor(times.length * 0.9)]), pushdown: await pushdown(col, q.filter(DOCS / 2)) };
    }
    rows.push({ storage, source: bench.source, loadavg, insertMs: Math.round(insertMs), queries });
  } finally {
    await bench.close();
  }
}

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${DOCS} documents, ${REPEAT} timed lookups each; ${os.cpus().length} cores`);
console.log(`${pad('storage', 12)}${pad('insert', 10)}${QUERIES.map((q) => pad(`${q.name} median/p90 ms`, 34)).join('')}load avg before`);
for (const r of rows) {
  const cells = QUERIES.map((q) => {
    const x = r.queries[q.name];
    return pad(`${x.medianMs} / ${x.p90Ms}${x.pushdown === null ? '' : x.pushdown ? ' (pushed down)' : ' (not pushed down)'}`, 34);
  });
  console.log(`${pad(r.storage, 12)}${pad(`${(r.insertMs / 1000).toFixed(1)} s`, 10)}${cells.join('')}${r.loadavg.join(' ')}`);
}
console.log(JSON.stringify({ bench: 'storage', docs: DOCS, repeat: REPEAT, cores: os.cpus().length, loadavgAfter: os.loadavg().map((x) => Number(x.toFixed(2))), rows }));

function round(ms: number): number {
  return ms < 10 ? Number(ms.toFixed(2)) : Math.round(ms);
}

/** FerretDB's explain says whether the filter went to the storage (`filterPushdown`). */
async function pushdown(col: Collection<Document>, filter: Document): Promise<boolean | null> {
  try {
    const plan = await col.find(filter).explain();
    return typeof plan.filterPushdown === 'boolean' ? plan.filterPushdown : null;
  } catch {
    return null;
  }
}
