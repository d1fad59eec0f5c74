#!/usr/bin/env node
// The `switchboard` command. Node 24 runs the TypeScript sources directly (type stripping); an
// older Node (the machine's, when `npx switchboard` or a shell finds it first) cannot even parse
// them, so it hands the command over to the Node 24 the project pins (the `node` devDependency,
// installed by `npm ci`) and passes its exit status on. Plain JavaScript, so Node 20 can run it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NEEDED_MAJOR = 24;

if (Number(process.versions.node.split('.')[0]) >= NEEDED_MAJOR) {
  await import('../src/cli.ts');
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write(`switchboard: needs Node ${NEEDED_MAJOR} (this is ${process.version}); run \`npm ci\` in the project to install the pinned one.\n`);
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C on a terminal reaches both processes: this one only waits for the child's answer to it
  // (passing it on too would be a second Ctrl-C, which ends serve without its graceful stop).
  process.on('SIGINT', () => {});
  // A signal sent to this process alone (a supervisor's SIGTERM) is passed on.
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`switchboard: could not start Node ${NEEDED_MAJOR} at ${pinned}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal); // end as the child ended, so a caller sees the signal
    process.kill(process.pid, signal);
  });
}
