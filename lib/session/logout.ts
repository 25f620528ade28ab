// Logout (RFC 7143 §11.14-§11.15): the request, a bounded wait for the response (protocol.md §0 item 5), and the
// wait for outstanding commands that comes before it.
import type { ReceivedPdu } from '../wire/deframer';
import { Opcode } from '../wire/opcodes';
import type { SessionCore } from './session-core';

/** The ITT of our Logout Request. */
const LOGOUT_ITT = 0x7ffffffe;

/**
 * Sends a Logout Request and waits at most the logout timeout. Resolves with the response's Time2Wait in seconds
 * (at most `maxTime2WaitS`: a target must not park a path for an hour), undefined when no response came.
 */
export function requestLogout(core: SessionCore, reason: number, maxTime2WaitS: number): Promise<number | undefined> {
  const c = core.connection;
  return new Promise<number | undefined>((resolve) => {
    const done = (time2Wait?: number) => {
      clearTimeout(timer);
      c.off('pdu', onPdu);
      c.off('close', onClose);
      resolve(time2Wait);
    };
    const onPdu = (pdu: ReceivedPdu) => {
      if (pdu.bhs.opcode === Opcode.LogoutResponse) done(Math.min(pdu.bhs.time2Wait, maxTime2WaitS));
    };
    const onClose = () => done(undefined);
    const timer = setTimeout(onClose, core.timers.logoutTimeoutMs);
    c.on('pdu', onPdu);
    c.once('close', onClose);
    c.send({ opcode: Opcode.LogoutRequest, immediate: true, reason, cid: 0, itt: LOGOUT_ITT, cmdSN: core.window.current, expStatSN: core.expStatSN });
  });
}

/** Resolves once no sent command is outstanding, or after `timeoutMs`. */
export function waitIdle(core: SessionCore, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      const busy = [...core.tasks.values()].some((t) => !t.aborted && !t.tmf && t.cmdSN !== undefined);
      if (!busy || Date.now() >= until) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}
