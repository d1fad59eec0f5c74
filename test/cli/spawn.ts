/** Runs the real CLI (`node src/cli.ts ...`) as a child process against a test app's database. */
import { execFile } from 'node:child_process';
import type { TestApp } from '../support/app.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: any;
}

/** A `cli(args, env)` bound to `app()`'s database (a getter: the app starts in beforeAll). */
export function cliAgainst(app: () => TestApp): (args: string[], env?: Record<string, string>) => Promise<CliResult> {
  return (args, env = {}) =>
    new Promise((resolve) => {
      const t = app().t;
      execFile(
        process.execPath,
        ['src/cli.ts', ...args],
        { env: { ...process.env, MONGODB_URL: `${t.url}${t.dbName}`, LOG_LEVEL: 'error', ...env }, timeout: 60_000 },
        (err, stdout, stderr) => {
          let json: unknown;
          try {
            json = JSON.parse(stdout);
          } catch {
            json = undefined;
          }
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
        },
      );
    });
}
