/**
 * Long polling that one process at a time does (it holds the `telegram-poller` lease) and that
 * never dies silently: every failure is logged and retried with exponential backoff, and when
 * failures persist an event goes to the alerting (`onError`). A lost lease aborts the poll in
 * flight; another process takes over when the holder stops renewing.
 */
import type { Api } from 'grammy';
import type { Update } from 'grammy/types';
import type { ConnectionStatus } from '../../../http/connections.ts';
import type { Logger } from '../../../log.ts';
import type { Lease } from './lease.ts';

export interface PollerOptions {
  /** Long-poll timeout passed to getUpdates (default 25 s). */
  pollTimeoutSec?: number;
  /** How often the lease is renewed, and how often a non-holder tries to take it (default 10 s). */
  renewMs?: number;
  /** First retry delay after a failure (default 1 s), doubled each time up to `maxBackoffMs` (60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Consecutive failures before `onError` fires (default 3). */
  alertAfter?: number;
}

export interface PollingTrouble {
  failures: number;
  since: Date;
  error: string;
}

export interface PollerDeps {
  api: Api;
  lease: Lease;
  log: Logger;
  /** Connected while polling works, standby while another process holds the lease (for /readyz). */
  status?: ConnectionStatus;
  /** Called once the lease is taken, before the first poll (getMe, deleteWebhook). */
  prepare: () => Promise<void>;
  /** Takes one update; must not throw for a bad update. */
  receive: (update: Update) => Promise<void>;
  onError: (trouble: PollingTrouble) => void;
  onRecovered?: () => void;
}

export class Poller {
  private readonly deps: PollerDeps;
  private readonly opts: Required<PollerOptions>;
  private stopped = false;
  private running: Promise<void> | undefined;
  private poll: AbortController | undefined;
  private nap: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(deps: PollerDeps, opts: PollerOptions = {}) {
    this.deps = deps;
    this.opts = { pollTimeoutSec: 25, renewMs: 10_000, backoffMs: 1000, maxBackoffMs: 60_000, alertAfter: 3, ...opts };
  }

  /** Starts the loop in the background. */
  start(): void {
    this.running ??= this.loop();
    this.renewTimer = setInterval(() => void this.renew(), this.opts.renewMs);
    this.renewTimer.unref();
  }

  /** Stops polling, waits for the loop to end and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.poll?.abort();
    this.nap?.wake();
    await this.running;
    await this.deps.lease.release().catch((err: unknown) => this.deps.log.warn({ err }, 'could not release the Telegram poller lease'));
  }

  private async loop(): Promise<void> {
    const { api, lease, log } = this.deps;
    let offset = 0;
    let failures = 0;
    let since = new Date();
    let prepared = false;
    while (!this.stopped) {
      try {
        if (!lease.held) {
          prepared = false;
          if (!(await lease.acquire())) {
            this.deps.status?.standby();
            await this.sleep(this.opts.renewMs);
            continue;
          }
          log.info('holding the Telegram poller lease: polling');
        }
        if (!prepared) {
          await this.deps.prepare();
          prepared = true;
          // getMe and deleteWebhook answered: reachable now, not only after a 25 s long poll.
          this.deps.status?.connected();
        }
        this.poll = new AbortController();
        const updates = await api.getUpdates({ offset, timeout: this.opts.pollTimeoutSec, allowed_updates: ['message', 'callback_query'] }, this.poll.signal as never);
        if (failures >= this.opts.alertAfter) this.deps.onRecovered?.();
        if (failures > 0) this.deps.status?.connected();
        failures = 0;
        for (const u of updates) {
          offset = Math.max(offset, u.update_id + 1);
          await this.deps.receive(u);
        }
      } catch (err) {
        if (this.stopped) break;
        if (this.poll?.signal.aborted && !lease.held) continue; // lease lost: stop quietly, try again later
        if (failures === 0) since = new Date();
        failures++;
        this.deps.status?.failed(err);
        const message = err instanceof Error ? err.message : String(err);
        log.error({ err, failures }, 'Telegram polling failed; retrying');
        if (failures === this.opts.alertAfter || (failures > this.opts.alertAfter && failures % 20 === 0)) {
          this.deps.onError({ failures, since, error: message });
        }
        const delay = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** Math.min(failures - 1, 16));
        await this.sleep(delay * (0.8 + Math.random() * 0.4));
      } finally {
        this.poll = undefined;
      }
    }
  }

  private async renew(): Promise<void> {
    const { lease, log } = this.deps;
    if (this.stopped || !lease.held) return;
    try {
      if (!(await lease.renew())) {
        log.warn('lost the Telegram poller lease to another process');
        this.poll?.abort();
      }
    } catch (err) {
      log.warn({ err }, 'could not renew the Telegram poller lease');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.nap = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.nap = { timer, wake };
    });
  }
}
