// Degraded start on the command line: a device that came up without some of its paths says so on stderr, one line
// per path with its reason, and again when one joins later (multipath-tools logs the same). The data still flows
// through the paths that are up, so this is a warning, not an error.
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PathInfo } from '../mpio/path';
import { warn } from './output';

function describe(info: PathInfo): string {
  const local = [info.local.address && `from ${info.local.address}`, info.local.device && `on ${info.local.device}`].filter(Boolean).join(' ');
  return `path ${info.id}${local ? ` (${local})` : ''}`;
}

/** Each path's portal, where it landed and what it carried (read and write --json). */
export function pathTraffic(device: MultipathDevice): Array<Record<string, unknown>> {
  return device.paths.map((p) => {
    const i = p.info();
    return {
      id: i.id, local: i.local, portal: i.portal, remote: i.remote, redirectedFrom: i.redirectedFrom, state: i.state,
      bytesRead: i.stats.bytesRead, bytesWritten: i.stats.bytesWritten, failures: i.stats.failures,
    };
  });
}

/** The paths that are down now, as `{id, reason}` (for --json). */
export function downPaths(device: MultipathDevice): Array<{ id: number; reason: string }> {
  return device.paths.filter((p) => p.failed).map((p) => ({ id: p.id, reason: p.lastError?.message ?? 'down' }));
}

export function announceDegradedPaths(device: MultipathDevice, retrying = true): void {
  const down = new Set<number>();
  for (const p of device.paths) {
    if (!p.failed) continue;
    down.add(p.id);
    warn(`${describe(p.info())} is down: ${p.lastError?.message ?? 'not logged in'}${retrying ? '; retrying in the background' : ''}`);
  }
  if (!retrying || down.size === 0) return;
  // Once per path that was down at the start: failovers later on are the device's business, not the user's.
  device.on('path-reinstated', ({ path }) => {
    if (down.delete(path.id)) process.stderr.write(`iscsi-mpio: ${describe(path)} is up\n`);
  });
}
