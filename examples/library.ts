// The library in one file: connect to a LU over two paths, read, write (and put the old data back), switch the
// path policy live, print each path's counters, close.
//
//   npx tsx examples/library.ts URL [PATH...]
//
// URL is iscsi://[user[%secret]@]host[:port]/<target-iqn>/<lun>; each PATH is [ADDRESS][@DEVICE][=PORTAL] as on
// the command line (default: two paths the routing table picks). It writes to the LU's last 8 blocks and
// restores them, so point it at a scratch LU: `npx iscsi-mpio target` makes one (README.md, "The library").
import { Initiator, parsePathSpec, type MultipathDevice, type PathSpec } from 'iscsi-mpio';

async function main(url: string, specs: PathSpec[]): Promise<void> {
  const initiator = new Initiator();
  // One session per path, each with its own ISID; the device groups them by the LU's identity (VPD 0x83).
  const device: MultipathDevice = await initiator.connect(url, { paths: specs, policy: 'failover' });
  try {
    device.on('path-state', ({ path, from, to }) => console.log(`path ${path.id}: ${from} -> ${to}`));
    const { blocks, blockSize } = await device.capacity();
    console.log(`device ${device.id}: ${blocks} blocks of ${blockSize} bytes, ${device.paths.length} paths, policy ${device.policy.name}`);

    const lba = blocks - 8;
    const original = await device.read(lba, 8);
    const pattern = Buffer.alloc(8 * blockSize, 0xa5);
    await device.write(lba, pattern);
    const readBack = await device.read(lba, 8);
    await device.write(lba, original);
    if (!readBack.equals(pattern)) throw new Error(`LBA ${lba}: read back differs from what was written`);
    console.log(`wrote and read back ${pattern.length} bytes at LBA ${lba}, then restored them`);

    // Round-robin sends each I/O down the next active path: both carry traffic now.
    device.setPolicy('round-robin');
    const ios = Array.from({ length: 64 }, (_, i) => device.read((i * 16) % (blocks - 16), 16));
    await Promise.all(ios);

    for (const path of device.paths) {
      const { id, state, local, remote, stats } = path.info();
      console.log(`path ${id} ${state}: ${local.address ?? '*'} -> ${remote.address}:${remote.port}, `
        + `${stats.reads} reads (${stats.bytesRead} bytes), ${stats.writes} writes, latency ~${stats.latencyUsEwma} us`);
    }
  } finally {
    await device.close(); // logs every path out
  }
}

const [url, ...pathArgs] = process.argv.slice(2);
if (!url) {
  console.error('usage: tsx examples/library.ts iscsi://host[:port]/<target-iqn>/<lun> [PATH...]');
  process.exit(2);
}
main(url, pathArgs.length > 0 ? pathArgs.map(parsePathSpec) : [{}, {}]).catch((error: Error & { code?: string }) => {
  console.error(`${error.name}: ${error.message}${error.code ? ` (${error.code})` : ''}`);
  process.exit(1);
});
