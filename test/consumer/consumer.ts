// A consumer of the published package, type-checked against its declarations by test/consumer/check.sh: the types
// of the public signatures can be named, the portal is one shape, a URL connects, and the PDU layer comes from
// `iscsi-mpio/wire` only.
import {
  ConnectError, Initiator, NoPathError, ScsiError, Target, parseIscsiUrl,
  type ConnectUrlOptions, type DeviceCapacity, type DeviceIdentity, type DiscoveredTarget, type IscsiUrl, type MultipathDevice,
  type PathInfo, type PathStatsSnapshot, type PolicyName, type Portal,
} from 'iscsi-mpio';
import { Opcode, decodeBhs, type Bhs, type PduConnection } from 'iscsi-mpio/wire';

export async function tour(target: Target): Promise<void> {
  const group: Portal | undefined = target.group;
  const url: IscsiUrl = parseIscsiUrl(target.url('group', 1));
  const same: Portal = url.portal;
  const found: DiscoveredTarget[] = await new Initiator().discover(group ?? same);
  const options: ConnectUrlOptions = { paths: [{ sourceAddress: '127.0.0.1' }, { portal: found[0].portals[0] }], policy: 'failover' };
  const device: MultipathDevice = await new Initiator().connect(url, options);
  try {
    const capacity: DeviceCapacity = await device.capacity();
    const identity: DeviceIdentity = await device.inquiry();
    const block: Buffer = await device.read(0, 1);
    await device.write(capacity.blocks - 1, block);
    const policy: PolicyName = 'round-robin';
    device.setPolicy(policy);
    const infos: PathInfo[] = device.paths.map((p) => p.info());
    const stats: PathStatsSnapshot[] = infos.map((i) => i.stats);
    const remote: Portal = infos[0].remote;
    console.log(identity.identity?.id, stats.length, remote.address);
  } catch (error) {
    if (error instanceof ScsiError) console.log(error.senseKey, error.asc);
    else if (error instanceof NoPathError || error instanceof ConnectError) console.log(error.code);
    throw error;
  } finally {
    await device.close();
  }
}

export function firstOpcode(header: Buffer, connection?: PduConnection): boolean {
  const bhs: Bhs = decodeBhs(header);
  return bhs.opcode === Opcode.NopIn && connection === undefined;
}
