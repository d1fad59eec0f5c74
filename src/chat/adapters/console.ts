/**
 * The interactive console: a prompt with history and help; job events (DLQ arrivals, kill switch
 * and pause changes) are printed as they happen; a reply's buttons become numbered choices.
 */
import readline from 'node:readline';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../../app/index.ts';
import { localAdmin } from '../../app/index.ts';
import type { DeadLetterDoc } from '../../db/collections.ts';
import type { SettingChange, SwitchState } from '../../engine/settings.ts';
import { replyToPlainText, type Reply, type ReplyAction } from '../reply.ts';

export interface ConsoleOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  historyFile?: string;
}

/** Renders a Reply for a terminal, numbering its actions. */
export function renderForConsole(reply: Reply, actions: ReplyAction[]): string {
  const body = replyToPlainText(reply);
  if (!actions.length) return body;
  return `${body}\n${actions.map((a, i) => `[${i + 1}] ${a.label}${a.style === 'danger' ? ' (!)' : ''}`).join('   ')}`;
}

/** Describes an ops event as one console line, or undefined to stay quiet. */
export function describeEvent(kind: 'dead-letter' | 'setting', payload: unknown): string | undefined {
  if (kind === 'dead-letter') {
    const d = payload as DeadLetterDoc;
    return `⚠ DLQ: ${d.jobName} ${d.jobId} after ${d.attempts} attempt(s): ${d.error.message}`;
  }
  const c = payload as SettingChange;
  const v = c.value as SwitchState | undefined;
  if (c.key === 'killswitch') return `⚠ kill switch ${v?.active ? 'ON' : 'off'}${c.by ? ` by ${c.by.name}` : ''}${c.reason ? `: ${c.reason}` : ''}`;
  if (c.key.startsWith('pause:')) return `⚠ ${c.key.slice(6)} ${v?.active ? 'paused' : 'resumed'}${c.by ? ` by ${c.by.name}` : ''}${c.reason ? `: ${c.reason}` : ''}`;
  return undefined;
}

/** Runs the console until the input ends or the user types `exit`. */
export async function runConsole(app: App, opts: ConsoleOptions = {}): Promise<void> {
  const output = opts.output ?? process.stdout;
  const historyFile = opts.historyFile ?? path.resolve(app.config.DATA_DIR, 'console_history');
  const history = (await readFile(historyFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).reverse().slice(0, 500);
  const rl = readline.createInterface({ input: opts.input ?? process.stdin, output, terminal: Boolean((output as NodeJS.WriteStream).isTTY), history, prompt: 'switchboard> ' });
  const print = (line: string) => {
    output.write(`\n${line}\n`);
    rl.prompt(true);
  };
  const onDead = (d: unknown) => print(describeEvent('dead-letter', d) ?? '');
  const onSetting = (c: unknown) => {
    const line = describeEvent('setting', c);
    if (line) print(line);
  };
  app.ops.on('dead-letter', onDead);
  app.ops.on('setting', onSetting);
  const invoker = localAdmin('console');
  let choices: ReplyAction[] = [];
  /** A destructive action waiting for `y`. */
  let asking: ReplyAction | undefined;
  output.write('Switchboard console. Type `help`, a command, or the number of an offered action; `exit` to leave.\n');
  rl.prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === 'exit' || line === 'quit') break;
      if (line) {
        await appendFile(historyFile, `${line}\n`).catch(() => {});
        const confirmed = asking && /^(y|yes)$/i.test(line) ? asking : undefined;
        if (asking && !confirmed) output.write('Cancelled.\n');
        asking = undefined;
        const pick = confirmed ?? (/^\d+$/.test(line) ? choices[Number(line) - 1] : undefined);
        if (pick?.confirm && !confirmed) {
          asking = pick;
          output.write(`${pick.confirm.title} ${pick.confirm.text} Type y to confirm, anything else to cancel.\n`);
          rl.prompt();
          continue;
        }
        if (confirmed && !pick?.token) {
          rl.prompt();
          continue;
        }
        const result = pick?.token ? await app.dispatcher.click(pick.token, invoker) : await app.dispatcher.run(line, invoker);
        choices = result.reply.actions ?? [];
        output.write(`${renderForConsole(result.reply, choices)}\n`);
      }
      rl.prompt();
    }
  } finally {
    app.ops.off('dead-letter', onDead);
    app.ops.off('setting', onSetting);
    rl.close();
  }
}
