import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, layerViolations, productSources } from './layers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('layers', () => {
  it('the tree keeps its layers: engine and flow below the operator layers, plug-ins wired by the composition root alone', () => {
    const violations = layerViolations(productSources(ROOT)).map((v) => `${v.file} imports ${v.imports}: ${v.rule}`);
    expect(violations).toEqual([]);
  });

  it('the check sees every kind of import, type-only and re-exports included', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export { c } from './c.ts';",
      "import './side.ts';",
      "import {\n  d,\n  e,\n} from './de.ts';",
      "const s = 'import x from \"./not-an-import.ts\"';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.ts', '../b.ts', './c.ts', './side.ts', './de.ts']);
  });

  it('flags what breaks a rule and lets the composition root and tests through', () => {
    const files = new Map([
      ['src/engine/x.ts', "import type { Ops } from '../ops/index.ts';\nimport { y } from './y.ts';"],
      ['src/flow/z.ts', "import { rules } from '../../alerts/index.ts';"],
      ['src/chat/w.ts', "import { commandRegistry } from '../../commands/index.ts';"],
      ['src/app/index.ts', "import { commandRegistry } from '../../commands/index.ts';\nimport { loadJobs } from '../../jobs/index.ts';"],
      ['commands/jobs.ts', "import { helper } from './args.ts';"],
      ['jobs/a.ts', "import { other } from '../commands/args.ts';"],
      ['src/chat/adapters/console.ts', "import type { App } from '../../app/index.ts';"],
      ['src/main.ts', "import { createApp } from './app/index.ts';"],
    ]);
    expect(layerViolations(files).map((v) => `${v.file} -> ${v.imports}`)).toEqual([
      'src/engine/x.ts -> src/ops/index.ts',
      'src/flow/z.ts -> alerts/index.ts',
      'src/chat/w.ts -> commands/index.ts',
      'jobs/a.ts -> commands/args.ts',
      'src/chat/adapters/console.ts -> src/app/index.ts',
    ]);
  });
});
