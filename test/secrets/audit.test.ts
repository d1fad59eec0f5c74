/**
 * The audit log's command text is masked with the shared rules, and the JSON payload of a command
 * that names a job also with that job's secretFields, whether the command ran, was refused or
 * was mistyped.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { redactCommand } from '../../src/ops/audit.ts';
import { asUser, startTestApp, type TestApp } from '../support/app.ts';
import { expectNoSecrets, partnerJob, partnerPayload, SECRET } from './partner.ts';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ work: false, extraJobs: [partnerJob] });
});

const auditOf = (actorId: string) => app.t.db.collection('auditLog').findOne({ 'actor.id': actorId });

describe('audit entries mask secrets', () => {
  it('jobs run: the payload in the command text, by key rules and the job\'s secretFields', async () => {
    const r = await app.dispatcher.run(`jobs run test.partner ${JSON.stringify(partnerPayload())} --at "in 1 hour"`, asUser('operator', 'U_AUDIT_RUN'));
    expect(r.status, r.reply.text).toBe('ok');
    const audit = await auditOf('U_AUDIT_RUN');
    expectNoSecrets(JSON.stringify(audit));
    expect(audit?.command).toBe(
      'jobs run test.partner ' +
        '{"url":"https://partner.example/orders","headers":{"authorization":"[redacted]","x-api-key":"[redacted]","x-partner-sig":"[redacted]","accept":"application/json"},"account":"[redacted]"}' +
        ' --at "in 1 hour"',
    );
  });

  it('a refused jobs run, typed with spaces and typographic quotes, is masked the same way', async () => {
    const typed = `jobs run test.partner { “url”: “https://partner.example/orders”, “headers”: { “x-partner-sig”: “${SECRET.partnerSig}” }, “account”: { “iban”: “${SECRET.iban}” } }`;
    const r = await app.dispatcher.run(typed, asUser('viewer', 'U_AUDIT_DENIED'));
    expect(r.status).toBe('denied');
    const audit = await auditOf('U_AUDIT_DENIED');
    expect(audit?.outcome).toBe('denied');
    expectNoSecrets(JSON.stringify(audit));
    expect(audit?.command).toBe('jobs run test.partner {"url":"https://partner.example/orders","headers":{"x-partner-sig":"[redacted]"},"account":"[redacted]"}');
  });

  it('a usage error keeps the text as typed, masked', async () => {
    const r = await app.dispatcher.run(`jobs list --token ${SECRET.apiKey} --password="${SECRET.cookie}"`, asUser('viewer', 'U_AUDIT_USAGE'));
    expect(r.status).toBe('usage');
    const audit = await auditOf('U_AUDIT_USAGE');
    expectNoSecrets(JSON.stringify(audit));
    expect(audit?.command).toBe('jobs list --token [redacted] --password="[redacted]"');
  });
});

describe('redactCommand', () => {
  const secretFieldsOf = (job: string) => (job === 'test.partner' ? partnerJob.secretFields : undefined);

  it('masks the payload with the secretFields of a job named anywhere in the command', () => {
    const out = redactCommand(`backfill start --name=x test.partner --days 3 {"account":{"iban":"${SECRET.iban}"},"until":"2025-01-31"}`, { secretFieldsOf });
    expect(out).toBe('backfill start --name=x test.partner --days 3 {"account":"[redacted]","until":"2025-01-31"}');
  });

  it('without a job registry, masks by key rules only', () => {
    expect(redactCommand(`jobs run x {"headers":{"Authorization":"Bearer ${SECRET.bearer}","x-partner-sig":"sig-1"}}`)).toBe(
      'jobs run x {"headers":{"Authorization":"[redacted]","x-partner-sig":"sig-1"}}',
    );
  });

  it('finds the payload behind quoted text that holds braces, and leaves everything else as typed', () => {
    const text = `jobs pause test.partner --reason "see {\\"a\\": 1}" {"account":{"iban":"${SECRET.iban}"}} --wait`;
    expect(redactCommand(text, { secretFieldsOf })).toBe('jobs pause test.partner --reason "see {\\"a\\": 1}" {"account":"[redacted]"} --wait');
  });

  it('masks the values of options named like secrets, quoted or not, and tokens anywhere', () => {
    expect(redactCommand(`x --api-key "two words" --secret 'a b' --job test.partner --client-secret=s1 xoxb-1111-2222-abcdefgh`)).toBe(
      'x --api-key [redacted] --secret [redacted] --job test.partner --client-secret=[redacted] xox-[redacted]',
    );
  });

  it('keeps a command without secrets as it is', () => {
    for (const text of ['dlq retry --all --job http.invoke', 'jobs run http.invoke {"url":"https://example.com/hook"} --wait', 'killswitch on --reason "token refresh storm"']) {
      expect(redactCommand(text)).toBe(text);
    }
  });
});
