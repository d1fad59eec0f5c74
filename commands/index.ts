/** Every command family; one file each. */
import { CommandRegistry } from '../src/chat/registry.ts';
import { auditCommand } from './audit.ts';
import { dlqCommands } from './dlq.ts';
import { jobsCommands } from './jobs.ts';
import { killSwitchCommands } from './killswitch.ts';
import { statusCommand } from './status.ts';

/** The command set every front end serves. */
export function commandRegistry(): CommandRegistry {
  return new CommandRegistry([statusCommand, ...jobsCommands, ...dlqCommands, ...killSwitchCommands, auditCommand]);
}
