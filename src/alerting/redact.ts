/**
 * Redaction of error samples before they leave the process (the AI triage): tokens (Bearer,
 * Slack xox*, OpenAI sk-*, Telegram bot tokens, JWTs, GitHub), emails and URLs' query strings.
 */
import { redactText } from '../log.ts';

const RULES: Array<[RegExp, string]> = [
  [/\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g, '[redacted-bot-token]'],
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, '$1[redacted]@'],
  [/\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, '$1 [redacted]'],
  [/\bxox[a-z]-[A-Za-z0-9-]+/gi, 'xox-[redacted]'],
  [/\bxapp-[A-Za-z0-9-]+/g, 'xapp-[redacted]'],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]'],
  [/\b(?:ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{16,}/g, '[redacted-token]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, '[redacted-jwt]'],
  [/\b((?:https?|wss?):\/\/[^\s?#"'<>]+)\?[^\s#"'<>]*/gi, '$1?[redacted]'],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[email]'],
  [/\b(api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|password|secret|token)(["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi, '$1$2[redacted]'],
];

/** The text with every secret-looking part replaced. */
export function redactSecrets(text: string): string {
  let out = redactText(text);
  for (const [re, by] of RULES) out = out.replace(re, by);
  return out;
}
