/**
 * The Invoker behind a dashboard session, resolved on every request exactly as the chat front
 * ends resolve it, so a role granted or revoked in chat holds on the next page: Slack through
 * slackInvoker (SLACK_ADMIN_USER_IDS, `identities`, SLACK_DEFAULT_ROLE), Telegram from
 * `identities`, and the CLI and console as the local admin they ran as.
 */
import type { Invoker } from '../chat/dispatcher.ts';
import type { Identities } from '../auth/identities.ts';
import { slackInvoker } from '../chat/adapters/slack/invoker.ts';
import type { Config } from '../config.ts';
import type { Actor } from '../db/collections.ts';

export async function sessionInvoker(config: Pick<Config, 'SLACK_ADMIN_USER_IDS' | 'SLACK_DEFAULT_ROLE'>, identities: Identities, actor: Actor): Promise<Invoker> {
  switch (actor.platform) {
    case 'slack':
      return slackInvoker(config, identities, { id: actor.id, name: actor.name });
    case 'telegram':
      return { actor, role: (await identities.roleOf('telegram', actor.id)) ?? 'none' };
    case 'cli':
    case 'console':
      return { actor, role: 'admin' };
    default:
      return { actor, role: 'none' };
  }
}
