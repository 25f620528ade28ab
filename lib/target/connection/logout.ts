// Logout (RFC 7143 §11.14-§11.15): closing the session or this connection ends every task; reason 2 (remove the
// connection for recovery) needs ERL 2 and is refused at ERL 0.
import type { LogoutRequest } from '../../wire/bhs';
import { Opcode } from '../../wire/opcodes';
import type { TargetConnection } from '../target-connection';

export function logout(c: TargetConnection, bhs: LogoutRequest): void {
  if (!bhs.immediate && !c.window!.accept(bhs.cmdSN)) return;
  const response = bhs.reason === 2 ? 2 : 0;
  c.send({
    opcode: Opcode.LogoutResponse, response, itt: bhs.itt, statSN: c.statSN++, ...c.windowFields(),
    time2Wait: 0, time2Retain: 0,
  });
  if (response === 0) {
    for (const task of c.tasks.values()) c.scsi.abort(task);
    c.close();
  }
}
