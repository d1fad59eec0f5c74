/**
 * The optional AI part of triage: with OPENAI_API_KEY, the openai client is asked for a short
 * summary and a suggested action over redacted error samples. Strict timeout, no retries; any
 * failure, timeout or malformed answer gives `undefined` (logged), and triage keeps its
 * deterministic text.
 */
import OpenAI from 'openai';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { redactSecrets } from './redact.ts';

/** How to reach the model (OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL). */
export interface AiOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  /** Whole-request timeout (default 8 s). */
  timeoutMs?: number;
  log: Logger;
}

/** What the model is given: the failing job and its failure groups with a few samples each. */
export interface AiTriageInput {
  rule: string;
  job: string;
  groups: Array<{ cls: string; count: number; samples: string[] }>;
}

/** The model's answer, once validated. */
export interface AiAnswer {
  summary: string;
  action: string;
}

const answerSchema = z.object({ summary: z.string().trim().min(1).max(800), action: z.string().trim().min(1).max(600) });

const SYSTEM = [
  'You help an on-call engineer triage failing background jobs.',
  'Given failure groups (a cause class, a count, sample error messages), reply with JSON only:',
  '{"summary": "<two sentences at most: what is failing and the likely cause>", "action": "<one concrete next step>"}.',
].join(' ');

/** Asks the model for a summary and an action over redacted samples; never throws. */
export class AiSummarizer {
  private readonly client: OpenAI;
  private readonly opts: AiOptions;

  constructor(opts: AiOptions) {
    this.opts = opts;
    this.client = new OpenAI({ apiKey: opts.apiKey, baseURL: opts.baseURL, timeout: opts.timeoutMs ?? 8000, maxRetries: 0 });
  }

  /** The prompt's user message: redacted samples, nothing else from the job. */
  static prompt(input: AiTriageInput): string {
    const lines = [`Job type: ${input.job}`, `Alert rule: ${input.rule}`, 'Failure groups:'];
    for (const g of input.groups) {
      lines.push(`- ${g.cls}: ${g.count} failures`);
      for (const s of g.samples) lines.push(`  sample: ${redactSecrets(s).slice(0, 300)}`);
    }
    return lines.join('\n');
  }

  /** A summary and an action, or undefined on any failure (logged, never thrown). */
  async summarize(input: AiTriageInput): Promise<AiAnswer | undefined> {
    const timeoutMs = this.opts.timeoutMs ?? 8000;
    try {
      const res = await this.client.chat.completions.create(
        {
          model: this.opts.model,
          temperature: 0,
          max_tokens: 300,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: SYSTEM },
            { role: 'user', content: AiSummarizer.prompt(input) },
          ],
        },
        { timeout: timeoutMs, maxRetries: 0, signal: AbortSignal.timeout(timeoutMs + 250) },
      );
      const content = res?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Error('the answer has no message content');
      const json = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, ''));
      const parsed = answerSchema.safeParse(json);
      if (!parsed.success) throw new Error(`the answer is not {summary, action}: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    } catch (err) {
      this.opts.log.warn({ err: err instanceof Error ? { name: err.name, message: err.message } : String(err), job: input.job }, 'AI triage failed; keeping the deterministic text');
      return undefined;
    }
  }
}
