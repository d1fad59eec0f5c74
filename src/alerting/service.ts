/**
 * AlertService: the notifiers of this process and the fan-out of every alert event to them, with
 * the ALERT_ROUTES decision attached. Notifiers run one after another, in a stable order (each
 * keeps its refs in a collection of its own); one that fails or hangs is logged and
 * the others still get the event. Also emits 'event' (AlertEvent) for live front ends.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.ts';
import { maskSecrets } from '../util/secrets.ts';
import { routeFor, type AlertRoute } from './routing.ts';
import type { AlertEvent, Notifier } from './types.ts';

/** Logger, ALERT_ROUTES and the per-notifier timeout. */
export interface AlertServiceOptions {
  log: Logger;
  routes?: AlertRoute[];
  /** A notifier taking longer is logged and skipped (default 30 s). */
  notifyTimeoutMs?: number;
}

/** What one fan-out did. */
export interface PublishResult {
  delivered: string[];
  failed: string[];
}

/** The notifiers of this process and the fan-out of alert events to them. */
export class AlertService extends EventEmitter {
  private readonly notifiers: Notifier[] = [];
  private readonly log: Logger;
  private readonly routes: AlertRoute[];
  private readonly timeoutMs: number;

  constructor(opts: AlertServiceOptions) {
    super();
    this.log = opts.log.child({ component: 'alerting' });
    this.routes = opts.routes ?? [];
    this.timeoutMs = opts.notifyTimeoutMs ?? 30_000;
  }

  /** Adds a channel; a second notifier with the same name replaces the first. */
  addNotifier(n: Notifier): void {
    const i = this.notifiers.findIndex((x) => x.name === n.name);
    if (i >= 0) this.notifiers.splice(i, 1, n);
    else this.notifiers.push(n);
  }

  /** Removes a channel by name (an adapter that stops). */
  removeNotifier(name: string): void {
    const i = this.notifiers.findIndex((x) => x.name === name);
    if (i >= 0) this.notifiers.splice(i, 1);
  }

  /** The names of the notifiers, in fan-out order. */
  notifierNames(): string[] {
    return this.notifiers.map((n) => n.name);
  }

  /**
   * Sends one event to every notifier, with its route; never throws. Masked here, once for every
   * channel and listener: a note can quote a rule's summary or an operator's reason.
   */
  async publish(event: AlertEvent, target?: { job?: string; provider?: string }): Promise<PublishResult> {
    const routed: AlertEvent = maskSecrets({ ...event, route: event.route ?? routeFor(this.routes, { rule: event.alert.rule, ...target }) });
    const result: PublishResult = { delivered: [], failed: [] };
    try {
      this.emit('event', routed);
    } catch (err) {
      this.log.warn({ err }, 'an alert event listener failed');
    }
    for (const n of [...this.notifiers]) {
      try {
        await withTimeout(n.notify(routed), this.timeoutMs, `notifier ${n.name} took longer than ${this.timeoutMs} ms`);
        result.delivered.push(n.name);
      } catch (err) {
        result.failed.push(n.name);
        this.log.warn({ err, notifier: n.name, alert: event.alert.key, kind: event.kind }, 'alert notifier failed');
      }
    }
    return result;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([Promise.resolve().then(() => p), timeout]).finally(() => clearTimeout(timer));
}
