// A portal: where an iSCSI target listens. One shape for the initiator, the embedded target, discovery answers and
// the JSON the CLI prints (DESIGN.md: `{address, port}`), so a portal from one can be handed to another unchanged.
import { isIPv6 } from 'node:net';

export interface Portal {
  /** IPv4, IPv6 (without brackets) or DNS name. */
  address: string;
  port: number;
}

/** `address:port`, IPv6 in brackets. */
export function formatPortal(portal: Portal): string {
  return `${isIPv6(portal.address) ? `[${portal.address}]` : portal.address}:${portal.port}`;
}
