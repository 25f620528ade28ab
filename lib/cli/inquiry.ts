// `iscsi-mpio inquiry URL [--path …]… [--policy P]`: logs in on every path (one session each, distinct ISIDs),
// groups them into one multipath device by LU identity, prints the device and its paths, logs out. JSON per
// DESIGN.md.
import type { Command } from 'commander';
import { Initiator } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import { parseIscsiUrl } from '../url';
import { printResult } from './output';
import { announceDegradedPaths } from './path-report';
import { withDevice } from './with-device';
import { addLayoutOptions, addPolicyOption, addSessionOptions, chapOf, layoutOf, loginTimeoutOf, pathsOf, policyOf, timeoutOf, type LayoutFlags, type SessionFlags } from './session-options';

/** The DESIGN.md inquiry object for a connected device. */
export async function describeDevice(device: MultipathDevice): Promise<Record<string, unknown> & { paths: Array<Record<string, unknown>> }> {
  const identity = await device.inquiry();
  const capacity = await device.capacity();
  return {
    id: device.id ?? null, vendor: identity.vendor, product: identity.product, revision: identity.revision,
    serial: identity.serial ?? null, blockSize: capacity.blockSize, blocks: capacity.blocks, policy: device.policy.name,
    paths: device.paths.map((p) => {
      const info = p.info();
      const out: Record<string, unknown> = {
        id: info.id, local: info.local, portal: info.portal, remote: info.remote, redirectedFrom: info.redirectedFrom, state: info.state,
      };
      if (info.state === 'failed' && p.lastError) out.error = p.lastError.message;
      if (info.alua !== undefined) out.alua = info.alua;
      return out;
    }),
  };
}

export function registerInquiry(program: Command): void {
  addLayoutOptions(addPolicyOption(addSessionOptions(program.command('inquiry <url>').description('log in on every path, print the device and its paths, log out'))))
    .option('--json', 'machine-readable output')
    .action(async (urlText: string, flags: SessionFlags & LayoutFlags & { json?: boolean; policy?: string }) => {
      const policy = policyOf(flags);
      const url = parseIscsiUrl(urlText);
      const options = {
        target: url.target, portal: url.portal, lun: url.lun, paths: pathsOf(flags), ...layoutOf(flags), policy,
        chap: chapOf(flags, url), digests: flags.digests, commandTimeoutMs: timeoutOf(flags), loginTimeoutMs: loginTimeoutOf(flags), reconnect: false,
      };
      const device = await new Initiator().connect(options);
      announceDegradedPaths(device, false);
      await withDevice(device, async () => {
        const result = await describeDevice(device);
        printResult(result, !!flags.json, () => [
          `${result.id ?? '(no identity)'} ${String(result.vendor)} ${String(result.product)} ${String(result.revision)}`,
          `serial ${String(result.serial ?? '-')}, ${String(result.blocks)} blocks of ${String(result.blockSize)} bytes, policy ${policy}`,
          ...device.paths.map((p) => {
            const i = p.info();
            // A path that never connected has no local port (and maybe no address): shown as `*`, not `null`.
            const local = `${i.local.address ?? '*'}${i.local.port === null ? '' : `:${i.local.port}`}`;
            return `  path ${i.id}: ${local}${i.local.device ? `@${i.local.device}` : ''} -> ${i.remote.address}:${i.remote.port}`
              + `${i.redirectedFrom ? ` (redirected from ${i.redirectedFrom})` : ''} ${i.state}${i.alua ? ` [${i.alua}]` : ''}`;
          }),
        ].join('\n'));
      });
    });
}
