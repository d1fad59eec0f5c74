/**
 * The layering rules of the source tree, checked file by file on the import statements (type-only
 * imports included: a type import is a dependency too). Folders are the layers:
 * - `src/engine` and `src/flow` run jobs and know nothing of who operates them: they import none
 *   of `src/ops`, `src/chat`, `src/dashboard`, `commands/`, `jobs/`, `alerts/`;
 * - `commands/`, `jobs/` and `alerts/` are plugged in by the composition root alone: outside their
 *   own folder only `src/app/` imports them;
 * - the composition root is imported by the entry points alone (front ends get a FrontEnd).
 * Tests and benches may import anything.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Violation {
  file: string;
  imports: string;
  rule: string;
}

interface Rule {
  name: string;
  /** Whether the rule applies to a file (repository-relative, forward slashes). */
  from: (file: string) => boolean;
  /** Whether the imported file breaks it. */
  forbids: (target: string) => boolean;
}

const under = (...dirs: string[]) => (file: string) => dirs.some((d) => file.startsWith(`${d}/`));
const PLUGINS = ['commands', 'jobs', 'alerts'];
/** What starts a process: the only modules besides the root itself that may import src/app/. */
const ENTRY_POINTS = ['src/main.ts', 'src/cli.ts', 'src/adapters.ts'];

export const RULES: readonly Rule[] = [
  {
    name: 'the engine and flow control import no operator layer (ops, chat, dashboard) and no plug-in folder',
    from: under('src/engine', 'src/flow'),
    forbids: under('src/ops', 'src/chat', 'src/dashboard', ...PLUGINS),
  },
  {
    name: 'only the entry points (src/main.ts, src/cli.ts, src/adapters.ts) import the composition root',
    from: (file: string) => !ENTRY_POINTS.includes(file) && !file.startsWith('src/app/'),
    forbids: under('src/app'),
  },
  ...PLUGINS.map((dir) => ({
    name: `only the composition root (src/app/) imports ${dir}/`,
    from: (file: string) => !file.startsWith(`${dir}/`) && !file.startsWith('src/app/'),
    forbids: under(dir),
  })),
];

/** Every static `import … from '…'` / `export … from '…'` / `import '…'` specifier of a source text. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The rule violations among `files` (repository-relative path → source text). */
export function layerViolations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, source] of files) {
    for (const spec of importSpecifiers(source)) {
      if (!spec.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const broken = RULES.find((rule) => rule.from(file) && rule.forbids(target));
      if (broken) out.push({ file, imports: target, rule: broken.name });
    }
  }
  return out;
}

/** The TypeScript sources of the product (not tests or benches), keyed by repository-relative path. */
export function productSources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts')) files.set(rel, readFileSync(path.join(root, rel), 'utf8'));
    }
  };
  for (const dir of ['src', ...PLUGINS]) walk(dir);
  return files;
}
