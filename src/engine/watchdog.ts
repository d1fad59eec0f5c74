/**
 * The wedge watchdog: notices an engine that has due jobs and free capacity yet starts nothing,
 * the state in which a worker once reported healthy for minutes while 248 jobs waited (Agenda had
 * stopped asking for one job type). It looks only when nothing started for a while, there is room
 * to start something, and Agenda has stopped asking for a type it could take (or asks, but no
 * scan for due jobs follows): a busy or a healthy idle worker pays nothing but a timer.
 */
import type { Logger } from '../log.ts';

export interface Wedge {
  since: Date;
  reason: string;
}

export interface WatchdogOptions {
  /** How often to check (the engine's poll interval). */
  everyMs: number;
  /** Nothing started for this long, with room to start: time to look. */
  quietMs: number;
  log: Logger;
  /** Job types this process could start now (defined, not held, below their local concurrency). */
  startable(): string[];
  /** When Agenda last asked for a job of this type (epoch ms, 0 = never). */
  lastAskAt(name: string): number;
  /** When due jobs were last looked for (epoch ms), and the longest a healthy engine goes without. */
  lastScan(): { at: number; maxQuietMs: number };
  /** When an attempt last started here (epoch ms, 0 = never). */
  lastStartAt(): number;
  /** One job of these types due since before `dueBefore` and not locked by a live worker, if any. */
  findDue(names: string[], dueBefore: Date): Promise<{ name: string; nextRunAt: Date | null } | null>;
  /** Called on every tick that ran: the engine's loop is alive. */
  onTick(): void;
  /** Called when a wedge begins (with it) and when it clears (with null). */
  onChange(wedge: Wedge | null): void;
}

export class Watchdog {
  private readonly opts: WatchdogOptions;
  private timer: NodeJS.Timeout | undefined;
  private wedge: Wedge | null = null;
  private lookedAt = 0;
  private looking = false;

  constructor(opts: WatchdogOptions) {
    this.opts = opts;
  }

  get current(): Wedge | null {
    return this.wedge;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    this.opts.onTick();
    if (now - this.opts.lastStartAt() < this.opts.quietMs) return this.set(null);
    const startable = this.opts.startable();
    // Agenda asks for every type it could take at every poll, and the asks lead to a scan at
    // least every maxQuietMs: then whatever is due is found, and there is nothing to look for.
    const scan = this.opts.lastScan();
    const scanning = now - scan.at <= 2 * scan.maxQuietMs + this.opts.everyMs;
    const names = scanning ? startable.filter((n) => now - this.opts.lastAskAt(n) > this.opts.quietMs) : startable;
    if (names.length === 0) return this.set(null);
    if (this.looking || now - this.lookedAt < this.opts.quietMs) return;
    this.looking = true;
    this.lookedAt = now;
    try {
      const due = await this.opts.findDue(names, new Date(now - this.opts.quietMs));
      // Something may have started while we looked.
      if (!due || Date.now() - this.opts.lastStartAt() < this.opts.quietMs) return this.set(null);
      const last = this.opts.lastStartAt();
      const quiet = last ? `for ${Math.round((now - last) / 1000)} s` : 'since the engine started';
      this.set({
        since: new Date(now),
        reason: `${due.name} has been due since ${due.nextRunAt?.toISOString() ?? 'its lock expired'} and this worker has room, yet nothing started here ${quiet}`,
      });
    } catch (err) {
      this.opts.log.warn({ err }, 'the wedge watchdog could not look for due jobs');
    } finally {
      this.looking = false;
    }
  }

  private set(wedge: Wedge | null): void {
    if (!wedge && !this.wedge) return;
    if (wedge && this.wedge) return; // still wedged: keep when it began
    this.wedge = wedge;
    if (wedge) this.opts.log.error({ since: wedge.since }, `engine wedged: ${wedge.reason}`);
    else this.opts.log.warn('engine no longer wedged: jobs start again');
    this.opts.onChange(wedge);
  }
}
