// Runs the initiator and target login machines against each other in memory, every PDU through encodeBhs and
// decodeBhs, and records the exchanged PDUs for assertions.
import { decodeBhs, encodeBhs, BhsInit, LoginRequest, LoginResponse } from '../../lib/wire/bhs';
import { InitiatorLogin, InitiatorLoginStep } from '../../lib/protocol/initiator-login';
import { TargetLogin, TargetLoginReply } from '../../lib/protocol/target-login';
import type { OutgoingPdu, Pdu } from '../../lib/protocol/pdu';

export function wire<T extends LoginRequest | LoginResponse>(pdu: OutgoingPdu<T>): Pdu<T> {
  const buf = Buffer.alloc(48);
  encodeBhs({ ...pdu.bhs, dataLength: pdu.data.length } as BhsInit, buf);
  const bhs = decodeBhs(buf) as T;
  if (bhs.dataLength !== pdu.data.length) throw new Error('DataSegmentLength does not match the data');
  return { bhs, data: Buffer.from(pdu.data) };
}

export interface Exchange { requests: Pdu<LoginRequest>[]; responses: Pdu<LoginResponse>[]; replies: TargetLoginReply[] }

/** Drives both machines until the initiator is done, redirected or throws; the target's last reply is kept. */
export function runLogin(initiator: InitiatorLogin, target: TargetLogin, tamper?: (r: Pdu<LoginResponse>, i: number) => Pdu<LoginResponse>) {
  const x: Exchange = { requests: [], responses: [], replies: [] };
  let step: InitiatorLoginStep = initiator.start();
  for (let i = 0; step.kind === 'send'; i++) {
    if (i > 100) throw new Error('login does not converge');
    const req = wire(step.pdu);
    x.requests.push(req);
    const reply = target.receive(req);
    x.replies.push(reply);
    let rsp = wire(reply.pdu);
    if (tamper) rsp = tamper(rsp, i);
    x.responses.push(rsp);
    step = initiator.receive(rsp);
  }
  return { step, exchange: x, last: x.replies[x.replies.length - 1] };
}

/** Like runLogin but returns the initiator's exception with the exchange so far. */
export function runLoginExpectingError(initiator: InitiatorLogin, target: TargetLogin, tamper?: (r: Pdu<LoginResponse>, i: number) => Pdu<LoginResponse>) {
  const x: Exchange = { requests: [], responses: [], replies: [] };
  try {
    let step: InitiatorLoginStep = initiator.start();
    while (step.kind === 'send') {
      const req = wire(step.pdu);
      x.requests.push(req);
      const reply = target.receive(req);
      x.replies.push(reply);
      let rsp = wire(reply.pdu);
      if (tamper) rsp = tamper(rsp, x.responses.length);
      x.responses.push(rsp);
      step = initiator.receive(rsp);
    }
  } catch (error) {
    return { error: error as Error, exchange: x, last: x.replies[x.replies.length - 1] };
  }
  throw new Error('the login did not fail');
}
