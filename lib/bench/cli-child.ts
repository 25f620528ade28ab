// How to start this package's own CLI in another process (e.g. the target inside a network namespace): the same
// node, the compiled main.js, or main.ts through tsx when running from sources.
import path from 'node:path';
import { packageRoot } from '../package-root';

export function cliCommand(args: string[]): { command: string; args: string[]; cwd: string } {
  const ext = path.extname(__filename);
  const main = path.join(__dirname, '..', 'cli', `main${ext}`);
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  return { command: process.execPath, args: [...loader, main, ...args], cwd: packageRoot };
}
