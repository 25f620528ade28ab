// `iscsi-mpio inquiry URL [--path …]… [--policy P]`: logs in on every path (one session each, distinct ISIDs),
// prints the device and its paths, logs out. JSON per DESIGN.md.
import type { Command } from 'commander';
import { Initiator, type PathSpec } from '../initiator';
import { formatPortal } from '../session/portal-login';
import type { Session } from '../session/session';
import { LunDevice } from '../session/lun-device';
import { parseIscsiUrl } from '../url';
import { printResult } from './output';
import { addSessionOptions, chapOf, pathsOf, type SessionFlags } from './session-options';

const POLICIES = ['failover', 'round-robin', 'round-robin-subset', 'least-queue-depth', 'weighted-paths', 'least-blocks', 'service-time'];

export function registerInquiry(program: Command): void {
  addSessionOptions(program.command('inquiry <url>').description('log in on every path, print the device and its paths, log out'))
    .option('--policy <policy>', `path policy (${POLICIES.join(', ')})`, 'failover')
    .option('--json', 'machine-readable output')
    .action(async (urlText: string, flags: SessionFlags & { json?: boolean; policy: string }) => {
      if (!POLICIES.includes(flags.policy)) throw Object.assign(new Error(`unknown policy "${flags.policy}"`), { code: 'EARGUMENT' });
      const url = parseIscsiUrl(urlText);
      const specs: Array<PathSpec | undefined> = pathsOf(flags);
      if (specs.length === 0) specs.push(undefined);
      const initiator = new Initiator();
      const sessions: Session[] = [];
      try {
        for (const [i, path] of specs.entries()) {
          sessions.push(await initiator.openSession({
            target: url.target, portal: { host: url.host, port: url.port }, path, pathId: i, chap: chapOf(flags, url),
            digests: flags.digests, commandTimeoutMs: Number(flags.timeout), reconnect: false,
          }));
        }
        const device = new LunDevice(sessions[0], url.lun);
        const identity = await device.inquiry();
        const capacity = await device.capacity();
        const paths: Array<Record<string, unknown>> = [];
        for (const [i, s] of sessions.entries()) {
          if (i > 0) await new LunDevice(s, url.lun).testUnitReady();
          const info = s.info();
          paths.push({
            id: i,
            local: { address: info.local.address, port: info.local.port, device: info.local.device ?? null },
            remote: { address: info.landed.host, port: info.landed.port },
            redirectedFrom: info.redirectedFrom ? formatPortal(info.redirectedFrom) : null,
            state: flags.policy === 'failover' && i > 0 ? 'standby' : 'active',
          });
        }
        const result = {
          id: identity.identity?.id ?? null, vendor: identity.vendor, product: identity.product, revision: identity.revision,
          serial: identity.serial ?? null, blockSize: capacity.blockSize, blocks: capacity.blocks, policy: flags.policy, paths,
        };
        printResult(result, !!flags.json, () => [
          `${result.id ?? '(no identity)'} ${result.vendor} ${result.product} ${result.revision}`,
          `serial ${result.serial ?? '-'}, ${result.blocks} blocks of ${result.blockSize} bytes, policy ${result.policy}`,
          ...sessions.map((s, i) => `  path ${i}: ${s.info().local.address}:${s.info().local.port} -> ${formatPortal(s.info().landed)}${paths[i].redirectedFrom ? ` (redirected from ${paths[i].redirectedFrom})` : ''} ${paths[i].state}`),
        ].join('\n'));
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
      }
    });
}
