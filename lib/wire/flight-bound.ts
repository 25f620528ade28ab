// How long bytes a connection had already sent may still take to reach the peer after we reset it. The RST only
// stops what the kernel has not sent; segments already handed to the network sit in queues on the way (a slow
// link's qdisc, a congested switch) and arrive before the RST does. A WRITE among them would run at the target after
// a LOGICAL UNIT RESET that went ahead over a fast path: a ghost write (lib/mpio/write-fence.ts waits this long).
// The queue drains at the path's bottleneck rate, which TCP measures (its delivery rate): the unacknowledged bytes
// take that long to get through, plus one round trip, bounded by TCP's retransmission timeout (srtt + 4 x rttvar,
// RFC 6298, with Linux's 200 ms floor; without backoff). Nothing when TCP had every byte acknowledged: then only
// what the target read into its buffers and has not parsed remains (docs/failover.md §2).
import type { InFlight } from './native-socket';

/** Never wait longer than this on an estimate: a queue deeper than this is beyond what the fence can tell. */
export const MAX_FLIGHT_MS = 10_000;

export function flightBoundMs(f: InFlight | undefined): number {
  if (!f || f.unackedBytes === 0) return 0;
  const roundTripMs = Math.max(f.rtoUs, f.srttUs + 4 * f.rttvarUs) / 1000;
  const drainMs = f.deliveryRate > 0 ? (f.unackedBytes / f.deliveryRate) * 1000 : MAX_FLIGHT_MS;
  return Math.min(MAX_FLIGHT_MS, Math.ceil(roundTripMs + drainMs));
}
