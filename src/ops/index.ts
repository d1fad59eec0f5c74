/**
 * The operations service: the only place that changes operational state or reads it for
 * operators. Commands, buttons, the CLI and HTTP endpoints call it; none touches collections.
 */
import { EventEmitter } from 'node:events';
import type { Actor } from '../db/collections.ts';
import type { Engine } from '../engine/engine.ts';
import { KILL_SWITCH_KEY, type SwitchState } from '../engine/settings.ts';
import { AuditLog, SYSTEM_ACTOR } from './audit.ts';
import type { FlowControl } from '../flow/index.ts';
import type { BreakerTransition } from '../flow/breakers.ts';
import { DeadLetters } from './deadLetters.ts';
import { Jobs } from './jobs.ts';
import { computeStatus, type StatusData } from './status.ts';
import { readRunSeries, type RunSeries } from './runSeries.ts';
import { Identities } from '../auth/identities.ts';
import { BindCodes } from '../auth/bindCodes.ts';
import { OwnerStore } from '../auth/owner.ts';
import { PinSecret } from '../auth/pin.ts';
import type { Role } from '../auth/roles.ts';
import { Signups, type SignupChannel } from '../auth/signup.ts';
import type { AlertOps } from '../alerting/alertOps.ts';
import { Backfills } from './backfills.ts';
import { BreakerControls } from './breakers.ts';
import { RuntimeConfig } from './config.ts';
import { viewSwitch, type KillSwitchView } from './killSwitch.ts';
import { Roles } from './roles.ts';
import { SignInLinks, type SingleUseTokens } from '../auth/signInLinks.ts';
import { systemClock, type Clock } from '../util/clock.ts';

export type { KillSwitchView } from './killSwitch.ts';

/** How signups reach the owner, and their PIN secret and default role (from the configuration). */
export interface AuthOptions {
  signupChannel?: SignupChannel;
  pinSecret?: string;
  defaultRole?: Role;
}

export interface OpsOptions {
  /** The process's alerting (built by the composition root). */
  alerts: AlertOps;
  auth?: AuthOptions;
  /** The button token store (chatActions): dashboard sign-in links are single-use tokens too. */
  tokens: SingleUseTokens;
  /** The public base of dashboard links (DASHBOARD_URL, or http://localhost:PORT). */
  signInBase?: string;
  clock?: Clock;
}

/**
 * Events for live front ends (console, notifiers): 'dead-letter', 'run', 'setting'
 * (kill switch and pauses, from any process).
 */
export class Ops extends EventEmitter {
  private readonly engine: Engine;
  readonly jobs: Jobs;
  readonly deadLetters: DeadLetters;
  readonly audit: AuditLog;
  readonly identities: Identities;
  /** Signups with a PIN (start, verify, approve, deny, list). */
  readonly signups: Signups;
  /** The Telegram owner (who gets alerts and PINs): read and bind. */
  readonly owner: OwnerStore;
  /** One-time codes that bind the Telegram owner: create and redeem. */
  readonly bindCodes: BindCodes;
  /** Alerts: list, show, explain, ack, snooze, resolve (the process's alerting, built by the root). */
  readonly alerts: AlertOps;
  readonly backfills: Backfills;
  readonly config: RuntimeConfig;
  readonly breakers: BreakerControls;
  readonly roles: Roles;
  /** Single-use links that sign a chat identity in to the web dashboard. */
  readonly signInLinks: SignInLinks;
  /** The time as the operations layer sees it (tests move it). */
  readonly clock: Clock;

  constructor(engine: Engine, flow: FlowControl, opts: OpsOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.engine = engine;
    this.alerts = opts.alerts;
    this.jobs = new Jobs(engine, this.clock);
    this.deadLetters = new DeadLetters(engine);
    this.audit = new AuditLog(engine.db, { secretFieldsOf: (name) => this.jobs.secretFieldsOf(name) });
    this.identities = new Identities(engine.db);
    this.owner = new OwnerStore(engine.settings, this.identities);
    this.bindCodes = new BindCodes(engine.db, () => this.clock.now().getTime());
    const auth = opts.auth ?? {};
    const secret = new PinSecret(engine.db, auth.pinSecret);
    this.signups = new Signups({ db: engine.db, audit: this.audit, identities: this.identities, owner: this.owner, events: this, channel: auth.signupChannel, secret, defaultRole: auth.defaultRole, now: () => this.clock.now() });
    this.backfills = new Backfills(engine);
    this.config = new RuntimeConfig(engine.settings, flow.ctx);
    this.breakers = new BreakerControls(flow.breakers);
    this.roles = new Roles(this.identities);
    this.signInLinks = new SignInLinks(opts.tokens, opts.signInBase ?? 'http://localhost:8080', this.clock);
    engine.on('dead-letter', (d) => this.emit('dead-letter', d));
    engine.on('run', (r) => this.emit('run', r));
    engine.settings.on('change', (c) => this.emit('setting', c));
    flow.breakers.on('transition', (t: BreakerTransition) => {
      this.emit('breaker', t);
      this.audit
        .record({ action: 'breaker_transition', actor: t.by ?? SYSTEM_ACTOR, target: t.provider, reason: t.reason, outcome: 'ok', detail: { from: t.from, to: t.to, failures: t.failures } })
        .catch(() => {});
    });
  }

  /** Runs per minute by outcome and their durations over the last 24 hours, from the rollups (the dashboard's charts). */
  runSeries(): Promise<RunSeries> {
    return readRunSeries(this.engine.cols, this.clock.now());
  }

  status(): Promise<StatusData> {
    return computeStatus(
      this.engine.cols,
      this.engine.jobs,
      this.engine.settings,
      async () => (await this.breakers.list()).map((b) => ({ provider: b.provider, state: b.state })),
      this.clock.now(),
    );
  }

  killSwitch(): KillSwitchView {
    return viewSwitch(this.engine.settings.killSwitch());
  }

  /** Turns the kill switch on or off for every process; repeating the current state changes nothing. */
  async setKillSwitch(active: boolean, reason: string, by: Actor): Promise<{ changed: boolean; state: KillSwitchView }> {
    await this.engine.settings.refresh();
    const current = this.engine.settings.killSwitch();
    if (current.active === active) return { changed: false, state: viewSwitch(current) };
    const next: SwitchState = { active, reason, by, at: new Date() };
    await this.engine.settings.set(KILL_SWITCH_KEY, next, by, reason);
    return { changed: true, state: viewSwitch(next) };
  }
}
