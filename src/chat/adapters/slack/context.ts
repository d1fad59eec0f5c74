/** What the Slack listeners share: the front end's parts (ops, dispatcher, config), the Web API, answers, re-delivery memory, in-flight work. */
import type { webApi } from '@slack/bolt';
import type { Logger } from '../../../log.ts';
import type { FrontEnd } from '../../frontEnd.ts';
import type { SlackDeliveries } from './deliveries.ts';
import type { SlackResponder } from './responder.ts';

export interface SlackContext {
  front: FrontEnd;
  client: webApi.WebClient;
  responder: SlackResponder;
  deliveries: SlackDeliveries;
  inflight: Inflight;
  log: Logger;
}

/** Tracks listener work that goes on after the ack, so shutdown (and tests) can wait for it. */
export class Inflight {
  private readonly running = new Set<Promise<void>>();
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Runs `work`, logging (never throwing) its failure. */
  run(work: () => Promise<void>): Promise<void> {
    const p: Promise<void> = work()
      .catch((err: unknown) => this.log.error({ err }, 'slack listener failed'))
      .finally(() => this.running.delete(p));
    this.running.add(p);
    return p;
  }

  /** Resolves when nothing is running (including work started while waiting). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
