/** serve's process handlers: an unhandled rejection and an uncaught exception are logged once with a ref, counted, and survived. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/unhandled.ts', import.meta.url));

describe('surviveUnhandled', () => {
  it('logs each once with a reference, counts it, and the process keeps running', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [FIXTURE], { timeout: 30_000 }, (err, out) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout: out }));
    });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(code).toBe(0);
    expect(lines.at(-1)).toEqual({ alive: true, counts: { rejection: 1, exception: 1 } });
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    const rejection = errors.find((l) => l.err?.message === 'nobody awaits this');
    const exception = errors.find((l) => l.err?.message === 'thrown in a timer');
    expect(rejection?.msg).toBe(`unhandled promise rejection (ref ${rejection?.ref}); serve keeps running`);
    expect(exception?.msg).toBe(`uncaught exception (ref ${exception?.ref}); serve keeps running`);
    expect(rejection?.ref).toMatch(/^[0-9a-f]{6}$/);
    expect(exception?.origin).toBe('uncaughtException');
  });
});
