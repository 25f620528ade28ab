#!/usr/bin/env node
// The `iscsi-mpio` command. Each subcommand lives in its own file and registers itself on the program.
import { Command } from 'commander';
import { registerDiscover } from './discover';
import { registerInquiry } from './inquiry';
import { registerReadWrite } from './read-write';
import { registerBench } from './bench';
import { registerNetstat } from './netstat';
import { registerNics } from './nics';
import { registerTarget } from './target';
import { registerDemo } from './demo';
import { reportError, reportUnfinished } from './output';
import { packageVersion } from '../package-root';

const program = new Command('iscsi-mpio')
  .description('User-space iSCSI initiator with multipath I/O')
  .version(packageVersion)
  .showHelpAfterError()
  // Commander's own errors (unknown option, missing argument) are usage errors too: exit 2, as DESIGN.md says.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

for (const register of [registerDiscover, registerInquiry, registerReadWrite, registerBench, registerNetstat, registerNics, registerTarget, registerDemo]) {
  register(program);
}

// A command exits 0 only if it did its job: should the event loop empty while a command's action still awaits
// something that can no longer happen (a bug: a promise nobody will settle), the process would otherwise end with 0.
// (--help and --version exit from the parser, before any action runs.)
let running = false;
program.hook('preAction', () => { running = true; });
process.once('exit', (code) => {
  if (running && code === 0) reportUnfinished();
});
program.parseAsync(process.argv).then(() => { running = false; }, (error: unknown) => {
  running = false;
  reportError(error);
});
