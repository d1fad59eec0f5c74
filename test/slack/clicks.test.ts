/** Buttons over signed HTTP: denied clicks, concurrent clicks, outcomes replacing buttons. */
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, blocksText, findButton, insertDeadLetters, startSlackHarness, type SlackHarness } from './harness.ts';

let h: SlackHarness;

beforeAll(async () => {
  h = await startSlackHarness();
});

const responsesTo = (id: string) => h.fake.responses.filter((r) => r.id === id);

describe('button clicks', () => {
  it("answers a viewer's click on Delete privately, audits the denial and leaves the DLQ alone", async () => {
    const [id] = await insertDeadLetters(h.app, 1);
    const shown = await h.slash(`dlq show ${id}`, ADMIN);
    const del = findButton(shown.body.blocks as Array<Record<string, unknown>>, 'Delete');
    expect(del.style).toBe('danger');
    expect(del.confirm).toMatchObject({ title: { text: 'Delete this dead letter?' } });

    expect(await h.click(shown, 'Delete', 'U_VIEWER', 'viewer-delete')).toBe(200);
    const answer = await h.fake.waitForResponse((r) => r.id === 'viewer-delete');
    await h.slack.idle();
    expect(answer.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(answer.body.text).toContain('You need the admin role');
    expect(responsesTo('viewer-delete')).toHaveLength(1);
    const audit = await h.app.t.db.collection('auditLog').findOne({ action: 'dlq_delete', 'actor.id': 'U_VIEWER' });
    expect(audit?.outcome).toBe('denied');
    expect((await h.app.ops.deadLetters.show(id)).status).toBe('pending');
  });

  it('runs one retry for ten concurrent clicks on one Retry; the others are told who did it', async () => {
    const [id] = await insertDeadLetters(h.app, 1);
    const shown = await h.slash(`dlq show ${id}`, ADMIN);
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => h.click(shown, 'Retry', ADMIN, `retry-${i}`)));
    expect(statuses).toEqual(Array(10).fill(200));
    await h.slack.idle();

    const answers = Array.from({ length: 10 }, (_, i) => responsesTo(`retry-${i}`));
    const replaced = answers.flat().filter((r) => r.body.replace_original === true);
    expect(replaced).toHaveLength(1);
    expect(blocksText(replaced[0].body.blocks)).toMatch(/Retried 1 dead letter — by <@U_ADMIN> at <!date\^\d+\^\{time\}\|\d\d:\d\d UTC>/);
    expect(JSON.stringify(replaced[0].body.blocks)).not.toContain('"type":"actions"');
    const told = answers.flat().filter((r) => r.body.replace_original === false);
    expect(told).toHaveLength(9);
    for (const r of told) expect(r.body.text).toMatch(/^Already done by u_admin at /);

    expect((await h.app.ops.deadLetters.show(id)).status).toBe('retry_scheduled');
    expect(await h.app.t.db.collection('auditLog').countDocuments({ action: 'dlq_retry', target: id })).toBe(1);
  });

  it('answers a click whose result is a view (Next page) with it, removing only that button', async () => {
    await insertDeadLetters(h.app, 4, 'test.broken');
    const page1 = await h.slash('dlq list --limit 2', 'U_VIEWER');
    findButton(page1.body.blocks as Array<Record<string, unknown>>, 'Retry all');
    expect(await h.click(page1, 'Next page', 'U_VIEWER', 'next-page')).toBe(200);
    await h.slack.idle();
    const [page2, edited] = [responsesTo('next-page').find((r) => !r.body.replace_original), responsesTo('next-page').find((r) => r.body.replace_original)];
    expect(page2?.body.text).toMatch(/page 2 of \d+/);
    expect(() => findButton(edited!.body.blocks as Array<Record<string, unknown>>, 'Next page')).toThrow();
    findButton(edited!.body.blocks as Array<Record<string, unknown>>, 'Retry all');
  });

  it('falls back to the Web API once a response_url has been used 5 times', async () => {
    const [id] = await insertDeadLetters(h.app, 1);
    const shown = await h.slash(`dlq show ${id}`, ADMIN);
    // Six clicks sharing one response_url: five answers go there, the sixth through chat.postEphemeral.
    for (let i = 0; i < 6; i++) await h.click(shown, 'Retry', 'U_VIEWER', 'shared-url');
    await h.slack.idle();
    expect(responsesTo('shared-url')).toHaveLength(5);
    const fallback = await h.fake.waitForCall('chat.postEphemeral', (c) => c.body.user === 'U_VIEWER');
    expect(String(fallback.body.text)).toContain('You need the admin role');
  });
});
