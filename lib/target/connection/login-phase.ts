// The login phase of one connection (RFC 7143 §6.3): Login Requests go to the protocol's TargetLogin state
// machine; anything else, a failed login or a login that is not done within loginTimeoutMs ends the connection.
// A timed-out login holds nothing: connections that connect and never finish are dropped, not kept forever.
// The login-delay fault holds the first Login Response of each connection back (a slow array controller).
import type { LoginRequest } from '../../wire/bhs';
import type { ReceivedPdu } from '../../wire/deframer';
import { Opcode } from '../../wire/opcodes';
import type { EstablishedLogin, TargetLogin } from '../../protocol/target-login';
import { REJECT_PROTOCOL_ERROR } from '../write-task';
import type { TargetConnection } from '../target-connection';

export class LoginPhase {
  private readonly login: TargetLogin;
  private readonly timer: NodeJS.Timeout;
  private answered = false;
  private delayed?: NodeJS.Timeout;

  constructor(private readonly c: TargetConnection, private readonly established: (outcome: EstablishedLogin) => void) {
    this.login = c.host.newLogin(c);
    const ms = c.host.caps.loginTimeoutMs;
    this.timer = setTimeout(() => {
      if (c.phase !== 'login') return;
      c.emit('login-failed', new Error(`login not complete within ${ms} ms: connection dropped`));
      c.drop();
    }, ms);
    this.timer.unref();
  }

  receive(pdu: ReceivedPdu): void {
    const c = this.c;
    if (pdu.bhs.opcode !== Opcode.LoginRequest) {
      // Anything but a Login Request before login completes is a protocol error (RFC 7143 §6.3): close.
      return c.reject(pdu.bhs, REJECT_PROTOCOL_ERROR, true);
    }
    const data = pdu.data ? Buffer.from(pdu.data) : Buffer.alloc(0);
    const reply = this.login.receive({ bhs: pdu.bhs as LoginRequest, data });
    const delay = this.answered ? 0 : c.host.loginDelayMs();
    this.answered = true;
    if (delay > 0) {
      this.delayed = setTimeout(() => { if (c.phase === 'login') this.answer(reply); }, delay);
      return;
    }
    this.answer(reply);
  }

  private answer(reply: ReturnType<TargetLogin['receive']>): void {
    const c = this.c;
    c.send(reply.pdu.bhs, reply.pdu.data);
    if (reply.outcome === 'failed' || reply.outcome === 'redirected') {
      if (reply.error) c.emit('login-failed', reply.error);
      // Any Status-Class other than 0 ends the login; the connection closes (RFC 7143 §6.3).
      return c.close();
    }
    if (reply.outcome === 'established') {
      this.stop();
      this.established(reply.session!);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.delayed);
  }
}
