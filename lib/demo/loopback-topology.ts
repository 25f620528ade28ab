// The demo's default array: the embedded target in this process on 127.77.0.0/24 (group .10, members .11-.13),
// every member paced to an emulated 1 Gbit/s. Loopback needs no privileges: any 127/8 address is local.
import { formatLinkRate } from '../target/link-rate';
import { Target } from '../target/target';
import type { DemoTopology } from './topology';

export interface LoopbackOptions {
  /** First three octets; default 127.77.0. */
  net?: string;
  /** Group portal port; default any free port. */
  port?: number;
  rate?: string;
  lunSize?: string;
}

export async function startLoopbackTopology(o: LoopbackOptions = {}): Promise<DemoTopology> {
  const net = o.net ?? '127.77.0';
  const rate = o.rate ?? '1gbit';
  const target = await Target.start({
    group: `${net}.10:${o.port ?? 0}`, portals: [`${net}.11:0`, `${net}.12:0`, `${net}.13:0`], luns: [o.lunSize ?? '256M'], rate,
  });
  const group = target.group!;
  let closed = false;
  return {
    description: [
      `embedded target ${target.iqn} in this process, LUN 1 of ${target.luns[0].bytes / 2 ** 20} MiB`,
      `group portal ${group.address}:${group.port} (only redirects logins)`,
      ...target.members.map((m, i) => `member ${i} ${m.address}:${m.port}, paced to ${formatLinkRate(m.rate ?? 0)} (emulated link)`),
    ],
    iqn: target.iqn, lun: 1, group: { address: group.address, port: group.port },
    members: target.members.map((m) => `${m.address}:${m.port}`),
    paths: [{ sourceAddress: `${net}.21` }, { sourceAddress: `${net}.22` }],
    sessionCount: () => target.sessions().length,
    close: async () => {
      if (closed) return;
      closed = true;
      await target.stop();
    },
  };
}
