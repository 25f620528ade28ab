// The demo over real paths (root): two veth pairs into a network namespace, tbf 1gbit on both ends, the embedded
// target running inside the namespace as `iscsi-mpio target` (group portal on path 0's far address, one member per
// path), the initiator here with each path bound to its veth and source address.
import { startTargetInNamespace } from '../bench/netns-target';
import { requireRootForNetns, ShapedPaths } from '../bench/shaped-paths';
import { formatPortal } from '../portal';
import type { DemoTopology } from './topology';

export async function startNetnsTopology(rate = '1gbit'): Promise<DemoTopology> {
  requireRootForNetns('demo --netns');
  const net = ShapedPaths.create({ paths: 2, rate });
  try {
    const [a, b] = net.paths;
    const target = await startTargetInNamespace(net, ['--group', `${a.peerAddress}:3260`, '--portal', `${a.peerAddress}:3261`, '--portal', `${b.peerAddress}:3261`, '--lun', '256M']);
    let closed = false;
    return {
      description: [
        `network namespace ${net.namespace}; ${net.paths.length} veth pairs, tc tbf ${rate} on both ends of each`,
        ...net.paths.map((p) => `path ${p.index}: ${p.hostDevice} ${p.hostAddress}/30 <-> ${p.peerDevice} ${p.peerAddress}/30`),
        `embedded target ${target.summary.iqn} in the namespace (pid ${target.pid}), LUN 1 of ${target.summary.luns[0].bytes / 2 ** 20} MiB`,
        `group portal ${formatPortal(target.group)}; members ${target.members.join(', ')} (no pacing: the links are shaped)`,
      ],
      iqn: target.summary.iqn, lun: 1, group: target.group, members: target.members,
      paths: net.paths.map((p) => ({ sourceAddress: p.hostAddress, device: p.hostDevice })),
      sessionCount: () => undefined,
      close: async () => {
        if (closed) return;
        closed = true;
        await target.stop();
        net.destroy();
      },
    };
  } catch (error) {
    net.destroy();
    throw error;
  }
}
