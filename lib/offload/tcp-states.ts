// Linux TCP states (include/net/tcp_states.h) under the names Windows `netstat` prints, so scripts carry over.

export type TcpStateName =
  | 'ESTABLISHED' | 'SYN_SENT' | 'SYN_RECEIVED' | 'FIN_WAIT_1' | 'FIN_WAIT_2' | 'TIME_WAIT' | 'CLOSED'
  | 'CLOSE_WAIT' | 'LAST_ACK' | 'LISTENING' | 'CLOSING';

const NAMES: Record<number, TcpStateName> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECEIVED',
  4: 'FIN_WAIT_1',
  5: 'FIN_WAIT_2',
  6: 'TIME_WAIT',
  7: 'CLOSED',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTENING',
  11: 'CLOSING',
  12: 'SYN_RECEIVED', // TCP_NEW_SYN_RECV: a request socket not yet accepted
};

export const TCP_LISTEN = 10;
export const TCP_CLOSE = 7;

export function tcpStateName(state: number): TcpStateName {
  return NAMES[state] ?? 'CLOSED';
}

/** Bit mask for sock_diag: every state `netstat -a` shows (1..12). */
export const ALL_STATES = 0x1ffe;
/** What `netstat -nt` shows without -a: connections, not listeners or closed sockets. */
export const CONNECTED_STATES = ALL_STATES & ~(1 << TCP_LISTEN) & ~(1 << TCP_CLOSE);
