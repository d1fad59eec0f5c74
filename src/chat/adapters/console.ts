/**
 * The console: on a terminal, a prompt with history and help; job events (DLQ arrivals, kill
 * switch and pause changes) and the log's warnings are printed above the prompt as one line each,
 * and a reply's buttons become numbered choices. Piped input runs every line in order, no prompt.
 */
import readline from 'node:readline';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FrontEnd } from '../frontEnd.ts';
import { localAdmin } from '../localAdmin.ts';
import type { DeadLetterDoc } from '../../db/collections.ts';
import { isKillSwitchKey, pausedJobOf, type SettingChange, type SwitchState } from '../../engine/settings.ts';
import type { ConsoleLog, LogEntry } from '../../log.ts';
import { helpForTerminal } from '../help.ts';
import { replyToPlainText, truncate, type Reply, type ReplyAction } from '../reply.ts';

export interface ConsoleOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  historyFile?: string;
  /** Where the logs go meanwhile: its path is shown once, its warnings as they come. */
  consoleLog?: ConsoleLog;
}

/** Columns of a terminal output, 80 when it is not a terminal. */
export function terminalWidth(output: NodeJS.WritableStream): number {
  return (output as NodeJS.WriteStream).columns || 80;
}

/** A Reply as terminal text `width` columns wide (the help listing is fitted, one line per command). */
export function replyForTerminal(reply: Reply, width: number): string {
  return helpForTerminal(reply, width) ?? replyToPlainText(reply);
}

/** Renders a Reply for a terminal, numbering its actions. */
export function renderForConsole(reply: Reply, actions: ReplyAction[], width = 80): string {
  const body = replyForTerminal(reply, width);
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
  const who = `${c.by ? ` by ${c.by.name}` : ''}${c.reason ? `: ${c.reason}` : ''}`;
  if (isKillSwitchKey(c.key)) return `⚠ kill switch ${v?.active ? 'ON' : 'off'}${who}`;
  const paused = pausedJobOf(c.key);
  if (paused) return `⚠ ${paused} ${v?.active ? 'paused' : 'resumed'}${who}`;
  return undefined;
}

/** A log warning or error as one console line: message, job, error message; the rest is in the file. */
export function describeLogEntry(entry: LogEntry, width: number): string {
  const mark = entry.level === 'warn' ? '⚠ warning' : `✖ ${entry.level}`;
  const job = typeof entry.job === 'string' ? ` [${entry.job}]` : '';
  const cause = entry.err?.message ?? (typeof entry.reason === 'string' ? entry.reason : undefined);
  return truncate(`${mark}${job}: ${entry.msg ?? '(no message)'}${cause ? ` (${cause})` : ''}`, width);
}

/**
 * Runs the console until the input ends or the user types `exit`. Resolves to the exit status:
 * 0, or 1 when input came from a pipe and one of its lines failed.
 */
export async function runConsole(app: FrontEnd, opts: ConsoleOptions = {}): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const interactive = Boolean((input as NodeJS.ReadStream).isTTY && (output as NodeJS.WriteStream).isTTY);
  const historyFile = opts.historyFile ?? path.resolve(app.config.DATA_DIR, 'console_history');
  const history = (await readFile(historyFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).reverse().slice(0, 500);
  const rl = readline.createInterface({ input, output, terminal: interactive, history, prompt: 'switchboard> ' });
  let closed = false;
  rl.on('close', () => (closed = true));
  /** True while a command runs: what arrives meanwhile is printed without a prompt. */
  let busy = false;
  const prompt = () => {
    if (interactive && !closed && !busy) rl.prompt();
  };
  /** Prints a line above the prompt and redraws the prompt with what the user was typing. */
  const announce = (line: string) => {
    if (!interactive || closed || busy) {
      output.write(`${line}\n`);
      return;
    }
    readline.moveCursor(output, 0, -rl.getCursorPos().rows);
    readline.cursorTo(output, 0);
    readline.clearScreenDown(output);
    output.write(`${line}\n`);
    rl.prompt(true);
  };
  const onDead = (d: unknown) => announce(describeEvent('dead-letter', d) ?? '');
  const onSetting = (c: unknown) => {
    const line = describeEvent('setting', c);
    if (line) announce(line);
  };
  app.ops.on('dead-letter', onDead);
  app.ops.on('setting', onSetting);
  const invoker = localAdmin('console');
  let choices: ReplyAction[] = [];
  /** A destructive action waiting for `y`. */
  let asking: ReplyAction | undefined;
  let failed = 0;
  if (interactive) {
    output.write('Switchboard console. Type `help`, a command, or the number of an offered action; `exit` to leave.\n');
    if (opts.consoleLog) output.write(`Logs go to ${opts.consoleLog.file}\n`);
  }
  const stopNotices = opts.consoleLog?.onNotice((entry) => announce(describeLogEntry(entry, terminalWidth(output))));
  prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === 'exit' || line === 'quit') break;
      if (line) {
        busy = true;
        await appendFile(historyFile, `${line}\n`).catch(() => {});
        const confirmed = asking && /^(y|yes)$/i.test(line) ? asking : undefined;
        if (asking && !confirmed) output.write('Cancelled.\n');
        const declined = asking && /^(n|no)$/i.test(line);
        asking = undefined;
        const pick = confirmed ?? (/^\d+$/.test(line) ? choices[Number(line) - 1] : undefined);
        if (pick?.confirm && !confirmed) {
          asking = pick;
          output.write(`${pick.confirm.title} ${pick.confirm.text} Type y to confirm, anything else to cancel.\n`);
        } else if (!declined && (!confirmed || pick?.token)) {
          // (`n` only answered the question; a confirmed action without a token has nothing to run)
          const result = pick?.token ? await app.dispatcher.click(pick.token, invoker) : await app.dispatcher.run(line, invoker);
          if (result.status !== 'ok') failed++;
          choices = result.reply.actions ?? [];
          output.write(`${renderForConsole(result.reply, choices, terminalWidth(output))}\n`);
        }
        busy = false;
      }
      prompt();
    }
  } finally {
    stopNotices?.();
    app.ops.off('dead-letter', onDead);
    app.ops.off('setting', onSetting);
    rl.close();
  }
  return !interactive && failed > 0 ? 1 : 0;
}
