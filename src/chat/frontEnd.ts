/**
 * What a front end (Slack, Telegram, the console, the dashboard) is given by the composition root: the operations
 * service for every read and change of operational state, the command dispatcher, the button
 * tokens, the configuration and a logger. Not the whole App: no engine, no flow control.
 */
import type { Db } from 'mongodb';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Ops } from '../ops/index.ts';
import type { ActionTokens } from './actions.ts';
import type { Dispatcher } from './dispatcher.ts';

export interface FrontEnd {
  ops: Ops;
  dispatcher: Dispatcher;
  tokens: ActionTokens;
  config: Config;
  log: Logger;
  /**
   * Only for the collections the front end owns itself: its delivery bookkeeping (message ids,
   * thread refs, update ids, its lease). Operational state goes through `ops`.
   */
  db: Db;
}
