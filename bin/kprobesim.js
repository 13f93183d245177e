#!/usr/bin/env node
// The `kprobesim` command: the compiled CLI in dist/ (built by `npm run build`, which `npm ci`
// and `npm pack` run through the prepare script). No TypeScript loader at run time.
import '../dist/cli/main.js';
