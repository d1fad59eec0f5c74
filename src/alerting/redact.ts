/**
 * Redaction of error samples before they leave the process (the AI triage). Secrets are masked
 * by the shared rules (maskText: secret keys, tokens, credentials in URLs); what goes to a third
 * party also loses what identifies people or requests: email addresses and URL query values.
 */
import { MASK, maskText } from '../util/secrets.ts';

/** The query string of an http(s)/ws(s) URL: the part after `?`, up to a fragment, space or quote. */
const URL_QUERY = /\b((?:https?|wss?):\/\/[^\s?#"'<>]+\?)([^\s#"'<>]*)/gi;
/** One `name=value` of a query string; the value is what is masked. */
const QUERY_VALUE = /(^|[&;])([^=&;]*)=[^&;]*/g;
const EMAIL = /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g;

/** The text with secrets (maskText), email addresses and URL query values replaced. */
export function redactSecrets(text: string): string {
  return maskText(text)
    .replace(URL_QUERY, (_whole, head: string, query: string) => head + query.replace(QUERY_VALUE, `$1$2=${MASK}`))
    .replace(EMAIL, '[email]');
}
