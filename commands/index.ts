/** Every command family; one file each. */
import { CommandRegistry } from '../src/chat/registry.ts';
import { alertsCommands } from './alerts.ts';
import { auditCommand } from './audit.ts';
import { backfillCommands } from './backfill.ts';
import { breakersCommands } from './breakers.ts';
import { configCommands } from './config.ts';
import { dashboardCommand } from './dashboard.ts';
import { dlqCommands } from './dlq.ts';
import { jobsCommands } from './jobs.ts';
import { killSwitchCommands } from './killswitch.ts';
import { rolesCommands } from './roles.ts';
import { signupCommands } from './signup.ts';
import { statusCommand } from './status.ts';
import { telegramCommands } from './telegram.ts';

/** The command set every front end serves. */
export function commandRegistry(): CommandRegistry {
  return new CommandRegistry([statusCommand, ...jobsCommands, ...dlqCommands, ...killSwitchCommands, ...breakersCommands, ...configCommands, auditCommand, ...rolesCommands, ...telegramCommands, ...signupCommands, ...alertsCommands, ...backfillCommands, dashboardCommand]);
}
