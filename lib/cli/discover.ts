// `iscsi-mpio discover PORTAL`: SendTargets on a portal. JSON `[{name, portals: [{address, port, tpgt}]}]`.
import type { Command } from 'commander';
import { Initiator } from '../initiator';
import { formatTargetAddress } from '../protocol/discovery-text';
import { printResult, warn } from './output';
import { addSessionOptions, chapOf, loginTimeoutOf, pathsOf, timeoutOf, type SessionFlags } from './session-options';

export function registerDiscover(program: Command): void {
  addSessionOptions(program.command('discover <portal>').description('SendTargets discovery on a portal (host[:port])'))
    .option('--json', 'machine-readable output')
    .action(async (portal: string, flags: SessionFlags & { json?: boolean }) => {
      const options = { chap: chapOf(flags), path: pathsOf(flags)[0], timeoutMs: timeoutOf(flags), loginTimeoutMs: loginTimeoutOf(flags) ?? timeoutOf(flags), digests: flags.digests, onWarning: (w: Error) => warn(w.message) };
      const targets = await new Initiator().discover(portal, options);
      printResult(targets, !!flags.json, () => targets.map((t) => t.portals.map((p) => `Target:${t.name} Portal:${formatTargetAddress(p)}`).join('\n')).join('\n'));
    });
}
