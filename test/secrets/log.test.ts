/** The logger masks with the same rules as the views: secret keys at any depth, tokens in messages and errors. */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs a script that logs through createLogger (JSON to stdout) in a fresh Node process; its lines parsed. */
function logLines(body: string): Promise<Array<Record<string, any>>> {
  const script = `import { createLogger } from './src/log.ts';\nconst log = createLogger({ format: 'json' });\n${body}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').map((l) => JSON.parse(l)));
    });
  });
}

describe('log redaction', () => {
  it('masks secret keys at any depth, tokens in messages and errors', async () => {
    const [obj, err] = await logLines(`
      log.info({ req: { headers: { 'X-Api-Key': 'KEY-AAA-111', Authorization: 'Bearer BEARER-BBB-222' } }, config: { SLACK_BOT_TOKEN: 'xoxb-1-2-SLACKCCC', MONGODB_URL: 'mongodb://ops:PASSDDD@db:27017' }, job: 'http.invoke' }, 'calling with sk-OPENAIEEE123');
      const e = new Error('rejected token=TOKENGGG');
      e.headers = { cookie: 'sid=COOKIEHHH' };
      log.error({ err: e }, 'failed');
    `);
    const text = JSON.stringify([obj, err]);
    for (const secret of ['KEY-AAA-111', 'BEARER-BBB-222', 'SLACKCCC', 'PASSDDD', 'OPENAIEEE', 'TOKENGGG', 'COOKIEHHH']) expect(text).not.toContain(secret);
    expect(obj.req.headers['X-Api-Key']).toBe('[redacted]');
    expect(obj.job).toBe('http.invoke');
    expect(obj.config.MONGODB_URL).toBe('mongodb://[redacted]@db:27017');
    expect(err.err.message).toBe('rejected token=[redacted]');
    expect(err.err.type).toBe('Error');
  });
});
