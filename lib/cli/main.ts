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
import { EXIT_CODES_HELP } from './exit-codes';
import { guardStdout, reportError } from './output';
import { packageVersion } from '../package-root';

guardStdout();

const program = new Command('iscsi-mpio')
  .description('User-space iSCSI initiator with multipath I/O')
  .version(packageVersion)
  .showHelpAfterError()
  .addHelpText('after', EXIT_CODES_HELP)
  // commander's usage errors are thrown, not exited on, so they get the usage status like ours (the subcommands
  // registered below inherit this).
  .exitOverride();

for (const register of [registerDiscover, registerInquiry, registerReadWrite, registerBench, registerNetstat, registerNics, registerTarget, registerDemo]) {
  register(program);
}

program.parseAsync(process.argv).catch(reportError);
