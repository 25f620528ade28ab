// NOP-Out / NOP-In (RFC 7143 §11.18-§11.19): our pings for the keepalive (lib/session/keepalive.ts decides when),
// and answers to the target's own pings.
import type { NopIn } from '../wire/bhs';
import { Opcode, RESERVED_TAG } from '../wire/opcodes';
import type { SessionCore } from './session-core';

/** The ITT our pings carry; the NOP-In answering one comes back with it. */
const PING_ITT = 0x7fffffff;

export function sendPing(core: SessionCore): void {
  if (!core.open) return;
  // An immediate NOP-Out: it takes no CmdSN and needs no free window slot.
  core.connection.send({
    opcode: Opcode.NopOut, immediate: true, lun: 0, itt: PING_ITT, ttt: RESERVED_TAG, cmdSN: core.window.current, expStatSN: core.expStatSN,
  });
}

export function receiveNopIn(core: SessionCore, bhs: NopIn): void {
  if (bhs.itt !== RESERVED_TAG) core.advanceStatSN(bhs.statSN);
  // A target ping (TTT set) needs an answer carrying its TTT and LUN; an answer to our ping needs none.
  if (bhs.ttt !== RESERVED_TAG) {
    core.connection.send({ opcode: Opcode.NopOut, immediate: true, lun: bhs.lun, itt: RESERVED_TAG, ttt: bhs.ttt, cmdSN: core.window.current, expStatSN: core.expStatSN });
  }
}
