/** Who the CLI and the console act as: the local admin, named after the operating-system user. */
import type { Actor } from '../db/collections.ts';
import type { Invoker } from './dispatcher.ts';

export function localAdmin(platform: 'cli' | 'console'): Invoker {
  const user = process.env.USER || process.env.LOGNAME || 'local';
  const actor: Actor = { platform, id: user, name: user };
  return { actor, role: 'admin' };
}
