/** `command({...})`: declares a command of ours, typed against the operations service. */
import type { z } from 'zod';
import type { CommandSpec } from '../src/chat/registry.ts';
import type { Ops } from '../src/ops/index.ts';

export function command<S extends z.ZodObject>(spec: CommandSpec<S, Ops>): CommandSpec {
  return spec as unknown as CommandSpec;
}
