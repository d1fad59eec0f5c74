/** `command({...})`: declares a command of ours; its handler gets the typed operations service as `ctx.ops`. */
import type { z } from 'zod';
import { defineCommand, type CommandSpec } from '../src/chat/registry.ts';

export function command<S extends z.ZodObject>(spec: CommandSpec<S>): CommandSpec {
  return defineCommand(spec);
}
