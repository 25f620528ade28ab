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
import { reportError } from './output';
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

program.parseAsync(process.argv).catch(reportError);
