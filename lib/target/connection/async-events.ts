// Asynchronous messages the target sends unasked (RFC 7143 §11.9): a logout request (event 1, for rebalancing)
// and the announcement that the target drops the connection (event 2).
import { Opcode, RESERVED_TAG } from '../../wire/opcodes';
import type { TargetConnection } from '../target-connection';

/**
 * Asks the initiator to log out (AsyncEvent 1): it should log out within `logoutWithinSeconds` and log in again
 * after `time2Wait` seconds, through the group portal, which may send it elsewhere.
 */
export function requestLogout(c: TargetConnection, time2Wait: number, logoutWithinSeconds: number): boolean {
  if (c.phase !== 'full-feature') return false;
  c.logoutRequested = true;
  // RFC 7143 §11.9.1: for event 1 only Parameter3 is defined; Time2Wait rides in Parameter2 as for events 2/3,
  // which initiators that honour it (open-iscsi) read from there.
  sendAsync(c, 1, 0, time2Wait, logoutWithinSeconds);
  return true;
}

/** Announces that the target will drop this connection (AsyncEvent 2) and drops it. */
export function announceDrop(c: TargetConnection, time2Wait: number, time2Retain: number): void {
  if (c.phase !== 'full-feature') return c.drop();
  sendAsync(c, 2, 0, time2Wait, time2Retain);
  c.pdu.close();
}

function sendAsync(c: TargetConnection, event: number, p1: number, p2: number, p3: number): void {
  c.send({
    opcode: Opcode.AsyncMessage, lun: 0, itt: RESERVED_TAG, statSN: c.statSN++, ...c.windowFields(),
    asyncEvent: event, asyncVCode: 0, parameter1: p1, parameter2: p2, parameter3: p3,
  });
}
