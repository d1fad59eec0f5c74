/**
 * The dashboard's own forms (run a job, set a config value) as command lines for the Dispatcher.
 * Only these forms exist: a POST cannot name any other command, and the Dispatcher checks the
 * role and the arguments of these as it does for chat.
 */
import { quoteArg } from '../chat/grammar.ts';

export type FormCommand = { ok: true; line: string; back: string } | { ok: false; error: string };

/** The command line a posted form stands for. */
export function formCommand(form: Record<string, string>): FormCommand {
  switch (form.form) {
    case 'jobs-run': {
      const job = form.job?.trim();
      if (!job) return { ok: false, error: 'Choose a job type to run.' };
      const payload = (form.payload ?? '').trim() || '{}';
      if (!/^\{[\s\S]*\}$/.test(payload)) return { ok: false, error: 'The payload must be a JSON object.' };
      return { ok: true, line: `jobs run ${quoteArg(job)} ${payload}`, back: `/ui/jobs?job=${encodeURIComponent(job)}` };
    }
    case 'config-set': {
      const key = form.key?.trim();
      const value = form.value?.trim();
      if (!key || !value) return { ok: false, error: 'Give a key and a value.' };
      return { ok: true, line: `config set ${quoteArg(key)} ${quoteArg(value)}`, back: `/ui/config?key=${encodeURIComponent(key)}` };
    }
    default:
      return { ok: false, error: 'The dashboard has no such form.' };
  }
}
