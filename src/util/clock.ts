/**
 * The time as the operations layer sees it. The composition root passes one clock to every
 * service that decides by age (dedupe windows, codes and tokens that expire, breaker cool-downs,
 * alert evaluation, retention), so a test moves time forward instead of sleeping or back-dating
 * stored documents. The engine's locks and Agenda's schedule stay on the system clock: they
 * coordinate processes, and every process must agree on them.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
