// The targets the failover bench and the soak fault: the embedded array (group portal redirecting to one member per
// path, controlled through target-control.ts) or a stock tgtd (one portal per path; it redirects only statically, so
// each path logs in to its own portal), reached over netns veths (root) or distinct loopback addresses, and the
// multipath device over them, built with the public API (Initiator, Path, MultipathDevice).
import { spawn } from 'node:child_process';
import { Initiator } from '../lib/initiator';
import { MultipathDevice } from '../lib/mpio/multipath-device';
import { Path } from '../lib/mpio/path';
import type { PathFaults } from '../lib/bench/path-faults';
import type { ShapedPaths } from '../lib/bench/shaped-paths';
import { startTargetAgent, type TargetControl } from '../lib/bench/target-control';
import type { PathSpec } from '../lib/initiator';
import { Tgtd } from '../test/support/tgtd';

export type TargetKind = 'embedded' | 'tgtd';

/** Where the paths run: netns veths (with faults), or loopback addresses (target-side faults only). */
export type Network =
  | { kind: 'netns'; net: ShapedPaths; faults: PathFaults }
  | { kind: 'loopback'; /** 127.43.x: path i leaves from .(10+i) and reaches the far end at .(1+i). */ prefix: string };

export interface RigOptions {
  kind: TargetKind;
  network: Network;
  paths: number;
  lunBytes: number;
  /** Distinct ports so an embedded target and a tgtd can share the far-end addresses. */
  port: number;
  initiatorName: string;
}

export interface Rig {
  kind: TargetKind;
  device: MultipathDevice;
  /** The embedded target's controls (async logout requests); undefined for tgtd. */
  control?: TargetControl;
  /** Takes down the far end that path `k` is logged in to now (member down, or tgtd's portal refusing); returns the undo. */
  farEndDown(k: number): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const TGTD_IQN = 'iqn.2024-01.io.iscsi-mpio.bench:failover-tgtd';

function endpoints(o: RigOptions): Array<{ spec: PathSpec; far: string }> {
  return Array.from({ length: o.paths }, (_, i) => {
    if (o.network.kind === 'netns') {
      const p = o.network.net.paths[i];
      return { spec: { sourceAddress: p.hostAddress, device: p.hostDevice }, far: p.peerAddress };
    }
    return { spec: { sourceAddress: `${o.network.prefix}.${10 + i}` }, far: `${o.network.prefix}.${1 + i}` };
  });
}

export async function startRig(o: RigOptions): Promise<Rig> {
  return o.kind === 'embedded' ? embeddedRig(o) : tgtdRig(o);
}

async function embeddedRig(o: RigOptions): Promise<Rig> {
  const ends = endpoints(o);
  const options = {
    group: { address: ends[0].far, port: o.port },
    portals: ends.map((e) => ({ address: e.far, port: o.port + 1 })),
    luns: [o.lunBytes],
  };
  // A child process either way, so this process's RSS and fds are the initiator's alone.
  const control = await startTargetAgent(options, o.network.kind === 'netns' ? o.network.net.spawnInside.bind(o.network.net) : spawn);
  try {
    const device = await new Initiator({ name: o.initiatorName }).connect({
      target: control.iqn, portal: `${ends[0].far}:${o.port}`, lun: 1, policy: 'round-robin', paths: ends.map((e) => e.spec),
    });
    const members = control.portals.filter((p) => p.role === 'member');
    return {
      kind: 'embedded', device, control,
      farEndDown: async (k) => {
        const remote = device.paths[k].info().remote;
        const member = members.findIndex((m) => m.address === remote.address && m.port === remote.port);
        if (member < 0) throw new Error(`path ${k} is on ${remote.address}:${remote.port}, no member of the target`);
        await control.memberDown(member);
        return () => control.memberUp(member);
      },
      close: async () => {
        await device.close();
        await control.stop();
      },
    };
  } catch (error) {
    await control.stop();
    throw error;
  }
}

async function tgtdRig(o: RigOptions): Promise<Rig> {
  const ends = endpoints(o);
  const portals = ends.map((e) => `${e.far}:${o.port}`);
  const tgtd = await Tgtd.start(portals, [{ name: TGTD_IQN, luns: [{ sizeBytes: o.lunBytes }] }],
    { namespace: o.network.kind === 'netns' ? o.network.net.namespace : undefined });
  const initiator = new Initiator({ name: o.initiatorName });
  const paths: Path[] = [];
  try {
    for (const [i, e] of ends.entries()) {
      const session = await initiator.openSession({ target: TGTD_IQN, portal: portals[i], path: e.spec, pathId: i });
      paths.push(new Path(i, session, 1));
    }
    const device = await MultipathDevice.open(paths, 1, { policy: 'round-robin' });
    const network = o.network;
    return {
      kind: 'tgtd', device,
      farEndDown: async (k) => {
        if (network.kind !== 'netns') throw new Error('a tgtd portal can be taken down only in a namespace (nftables there)');
        const fault = network.faults.portalRefused(ends[k].far, o.port);
        return async () => fault.restore();
      },
      close: async () => {
        await device.close();
        await tgtd.stop();
      },
    };
  } catch (error) {
    await Promise.all(paths.map((p) => p.session.close().catch(() => undefined)));
    await tgtd.stop();
    throw error;
  }
}
