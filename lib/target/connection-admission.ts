// Which new TCP connections the target takes, and what a connection costs before it has logged in. Every check
// runs before anything is allocated for the socket:
// - over maxConnections (open connections on all portals, silent ones included) the new connection is refused;
// - with maxLoginConnectionsPerAddress logins already under way from its address it is refused: one address with
//   many half-open logins is a flood, not a host logging in its paths, and must not evict other hosts' logins;
// - at maxLoginConnections the oldest connection still in login (or silent) makes room: a flood of connections
//   that never log in cannot lock out a real login, which completes in milliseconds.
// A taken connection stays a SilentConnection (a socket and a timer) until its first bytes; only then is the
// TargetConnection, with its deframer and buffers, built.
import type * as net from 'node:net';
import { SilentConnection } from './silent-connection';
import type { TargetConnection } from './target-connection';
import type { TargetCaps } from './target-options';

/** A connection in the login phase as the login caps see it. */
interface LoginSlot { readonly remoteAddress?: string; drop(): void }

export interface AdmissionCounters {
  /** Connections taken, refused at once by a cap, and logins evicted to make room, since the start. */
  acceptedConnections: number;
  refusedConnections: number;
  evictedLogins: number;
}

export class ConnectionAdmission<Portal> {
  /** Connections still in the login phase, silent or not, oldest first. */
  private readonly inLogin = new Set<LoginSlot>();
  /** Taken connections that have not sent a byte yet, with the portal they came to. */
  private readonly silent = new Map<SilentConnection, Portal>();
  readonly counters: AdmissionCounters = { acceptedConnections: 0, refusedConnections: 0, evictedLogins: 0 };

  /** `openConnections` counts the TargetConnections of every portal. */
  constructor(private readonly caps: TargetCaps, private readonly openConnections: () => number) {}

  get loginConnections(): number { return this.inLogin.size; }
  get silentConnections(): number { return this.silent.size; }

  /**
   * Takes `socket` if the caps allow (else closes it) and calls `speaks` with its first bytes, synchronously in
   * Node's read callback: build the TargetConnection there and hand it the bytes (TargetConnection.start).
   */
  take(socket: net.Socket, portal: Portal, speaks: (first: Buffer) => void): void {
    if (!this.admit(socket)) return void socket.destroy();
    const silent: SilentConnection = new SilentConnection(socket, this.caps.loginTimeoutMs, (first) => {
      this.forget(silent);
      speaks(first);
    }, () => this.forget(silent));
    this.silent.set(silent, portal);
    this.inLogin.add(silent);
  }

  /** A built connection holds its login slot until Full Feature Phase or its end. */
  loggingIn(connection: TargetConnection): void {
    this.inLogin.add(connection);
    const leave = () => this.inLogin.delete(connection);
    connection.once('established', leave);
    connection.once('closed', leave);
  }

  /** Drops the silent connections of `portal` (all of them when undefined: the target stops). */
  dropSilent(portal?: Portal): void {
    for (const [c, p] of this.silent) if (portal === undefined || p === portal) c.drop();
  }

  private forget(silent: SilentConnection): void {
    this.silent.delete(silent);
    this.inLogin.delete(silent);
  }

  private admit(socket: net.Socket): boolean {
    if (this.openConnections() + this.silent.size >= this.caps.maxConnections) {
      this.counters.refusedConnections++;
      return false;
    }
    let fromAddress = 0;
    for (const c of this.inLogin) if (c.remoteAddress === socket.remoteAddress) fromAddress++;
    if (fromAddress >= this.caps.maxLoginConnectionsPerAddress) {
      this.counters.refusedConnections++;
      return false;
    }
    if (this.inLogin.size >= this.caps.maxLoginConnections) {
      const oldest = this.inLogin.values().next().value!;
      this.inLogin.delete(oldest);
      this.counters.evictedLogins++;
      oldest.drop();
    }
    this.counters.acceptedConnections++;
    return true;
  }
}
