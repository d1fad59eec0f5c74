#!/usr/bin/env node
// The `switchboard` command: Node 24 runs the TypeScript sources directly (type stripping).
import '../src/cli.ts';
