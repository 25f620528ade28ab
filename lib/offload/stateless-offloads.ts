// The stateless offloads a NIC applies to a TCP connection (the host still owns the TCP state), named briefly
// from the kernel's ethtool feature strings (net/ethtool/common.c netdev_features_strings).

export type StatelessOffload = 'tso' | 'gso' | 'gro' | 'gro-hw' | 'lro' | 'rx-csum' | 'tx-csum' | 'sg' | 'tls-tx' | 'tls-rx' | 'tls-record';

// Which kernel features give each offload; TSO and TX checksum depend on the address family of the connection.
const SOURCES: { offload: StatelessOffload; features: string[]; family?: 4 | 6 }[] = [
  { offload: 'tso', features: ['tx-tcp-segmentation'], family: 4 },
  { offload: 'tso', features: ['tx-tcp6-segmentation'], family: 6 },
  { offload: 'gso', features: ['tx-generic-segmentation'] },
  { offload: 'gro', features: ['rx-gro'] },
  { offload: 'gro-hw', features: ['rx-gro-hw'] },
  { offload: 'lro', features: ['rx-lro'] },
  { offload: 'rx-csum', features: ['rx-checksum'] },
  { offload: 'tx-csum', features: ['tx-checksum-ipv4', 'tx-checksum-ip-generic'], family: 4 },
  { offload: 'tx-csum', features: ['tx-checksum-ipv6', 'tx-checksum-ip-generic'], family: 6 },
  { offload: 'sg', features: ['tx-scatter-gather'] },
  { offload: 'tls-tx', features: ['tls-hw-tx-offload'] },
  { offload: 'tls-rx', features: ['tls-hw-rx-offload'] },
  { offload: 'tls-record', features: ['tls-hw-record'] },
];

/**
 * The stateless offloads in effect for a connection of `family` (or for either family when omitted, as for
 * an interface listing) given the NIC's active kernel features.
 */
export function statelessOffloads(activeFeatures: Iterable<string>, family?: 4 | 6): StatelessOffload[] {
  const active = new Set(activeFeatures);
  const found = new Set<StatelessOffload>();
  for (const source of SOURCES) {
    if (family !== undefined && source.family !== undefined && source.family !== family) continue;
    if (source.features.some((f) => active.has(f))) found.add(source.offload);
  }
  return [...found];
}
