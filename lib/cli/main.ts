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
import { registerNode, registerPolicy } from './node';
import { registerServe } from './serve';
import { registerStatus } from './status';
import { EXIT_CODES_HELP } from './exit-codes';
import { guardStdout, reportError, reportUnfinished } from './output';
import { packageVersion } from '../package-root';

guardStdout();

const program = new Command('iscsi-mpio')
  .description('User-space iSCSI initiator with multipath I/O')
  .version(packageVersion)
  .addHelpText('after', EXIT_CODES_HELP)
  // commander's usage errors are one line like ours, and thrown rather than exited on, so they get the usage status
  // (the subcommands registered below inherit both).
  .configureOutput({ outputError: (text, write) => write(`iscsi-mpio: ${text.replace(/^error: /, '')}`) })
  .exitOverride();

for (const register of [registerDiscover, registerInquiry, registerReadWrite, registerBench, registerNetstat, registerNics, registerTarget, registerDemo, registerNode, registerServe, registerStatus, registerPolicy]) {
  register(program);
}
for (const command of program.commands) command.addHelpText('after', EXIT_CODES_HELP);

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
