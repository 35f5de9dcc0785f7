#!/usr/bin/env node
// Launcher of the `shoal` command: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli/index.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write(`shoal: ${cli} is missing; run \`npm run build\` first\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv);
