/**
 * Whether this process should get traffic and work (`/readyz`): the database answers a ping,
 * the engine is polling and not wedged, and every chat adapter is connected. It answers within
 * about a second whatever the database does: the ping is bounded by the driver's own timeout
 * (so nothing is left waiting behind it) and raced against a timer.
 */
import type { Db } from 'mongodb';
import type { EngineHealth } from '../engine/engine.ts';
import { errorText, type ConnectionSnapshot, type ConnectionStatus } from './connections.ts';

export interface ReadinessOptions {
  db: Db;
  engine: { health(): EngineHealth };
  /** The engine's ENGINE_PROCESS_EVERY_MS: a poll older than ten of these (plus slack) is stale. */
  processEveryMs: number;
  /** How long the database may take to answer a ping (default 750 ms, so the answer stays under 1 s on a busy machine). */
  pingTimeoutMs?: number;
}

export interface ReadinessReport {
  ok: boolean;
  /** One sentence per thing that is not ready. */
  reasons: string[];
  adapters: ConnectionSnapshot[];
}

/** A missed poll or two is normal under load; ten in a row, plus this, is not. */
const POLL_SLACK_MS = 5_000;

export class Readiness {
  private readonly opts: ReadinessOptions;
  private readonly connections: ConnectionStatus[] = [];

  constructor(opts: ReadinessOptions) {
    this.opts = opts;
  }

  /** Adds services whose connection counts for readiness (the adapters, once started). */
  watch(...statuses: ConnectionStatus[]): void {
    this.connections.push(...statuses);
  }

  adapters(): ConnectionSnapshot[] {
    return this.connections.map((c) => c.snapshot());
  }

  async check(): Promise<ReadinessReport> {
    const reasons: string[] = [];
    const database = await this.pingDatabase();
    if (database) reasons.push(database);
    const engine = this.engineReason(new Date());
    if (engine) reasons.push(engine);
    for (const c of this.connections) {
      const r = c.reason();
      if (r) reasons.push(r);
    }
    return { ok: reasons.length === 0, reasons, adapters: this.adapters() };
  }

  /** Undefined when the database answered a ping in time, else why not. */
  private async pingDatabase(): Promise<string | undefined> {
    const ms = this.opts.pingTimeoutMs ?? 750;
    let timer: NodeJS.Timeout | undefined;
    // Without timeoutMS the driver would wait serverSelectionTimeoutMS (15 s) for a server that is gone.
    const ping = this.opts.db.command({ ping: 1 }, { timeoutMS: ms }).then(
      () => undefined,
      (err: unknown) => `The database is unreachable (${errorText(err)}).`,
    );
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`The database did not answer a ping within ${ms} ms.`), ms + 50);
    });
    try {
      return await Promise.race([ping, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private engineReason(now: Date): string | undefined {
    const h = this.opts.engine.health();
    if (!h.working) return 'The engine is not taking jobs (it is starting or stopping).';
    if (h.wedged) return `The engine has been wedged since ${h.wedged.since.toISOString()}: ${h.wedged.reason}.`.replace(/\.\.$/, '.');
    // Before the first poll is reported there is nothing to judge: the engine just started.
    if (!h.lastPollAt) return undefined;
    const ageMs = now.getTime() - h.lastPollAt.getTime();
    const limitMs = 10 * this.opts.processEveryMs + POLL_SLACK_MS;
    if (ageMs > limitMs) return `The engine has not polled for due jobs for ${Math.round(ageMs / 1000)} s (expected every ${this.opts.processEveryMs} ms).`;
    return undefined;
  }
}
