// One member port of the array: its listener, its emulated link (pacer), its ALUA state and its connections.
import type * as net from 'node:net';
import { formatTargetAddress } from '../protocol/discovery-text';
import { CommandHold } from './command-hold';
import { LinkPacer } from './link-pacer';
import { PortalListener } from './portal-listener';
import type { TargetConnection } from './target-connection';
import type { AluaAccessState } from './target-options';
import type { PortIdentity } from './lu/types';

export interface MemberPortalInfo {
  index: number;
  address: string;
  port: number;
  /** Target portal group tag (each member is its own portal group). */
  tpgt: number;
  up: boolean;
  /** Emulated link rate in bits per second, when paced. */
  rate?: number;
  alua: AluaAccessState;
  connections: number;
  /** Payload bytes through the pacer (Data-In sent + Data-Out asked for). */
  bytesPaced: number;
  /** Stalled (Target.holdCommands), and the commands waiting for the release. */
  held: boolean;
  heldCommands: number;
}

export class MemberPortal {
  readonly listener: PortalListener;
  readonly pacer: LinkPacer;
  readonly connections = new Set<TargetConnection>();
  readonly portIdentity: PortIdentity;
  /** The stalled-controller control: while active the member executes and answers nothing. */
  readonly hold = new CommandHold();
  up = false;
  responseDelayMs = 0;
  loginDelayMs = 0;
  taskManagementDelayMs = 0;

  constructor(readonly index: number, address: string, port: number, readonly tpgt: number, iqn: string, rate: number | undefined,
    public alua: AluaAccessState, accept: (socket: net.Socket, member: MemberPortal) => void) {
    this.listener = new PortalListener(address, port, (socket) => accept(socket, this));
    this.pacer = new LinkPacer(rate);
    this.portIdentity = {
      relativeTargetPortId: tpgt, targetPortGroupId: tpgt, targetName: iqn,
      targetPortName: `${iqn},t,0x${tpgt.toString(16).padStart(4, '0')}`,
    };
  }

  get address(): string { return this.listener.address; }
  get port(): number { return this.listener.port; }
  get targetAddress(): string { return formatTargetAddress({ address: this.address, port: this.port, tpgt: this.tpgt }); }

  async start(): Promise<void> {
    await this.listener.listen();
    this.up = true;
  }

  /** Member down: refuse new connections, drop the open ones, forget queued paced work. */
  async down(): Promise<void> {
    this.up = false;
    for (const c of this.connections) c.drop();
    await this.listener.close();
    this.pacer.clear();
  }

  info(): MemberPortalInfo {
    return {
      index: this.index, address: this.address, port: this.port, tpgt: this.tpgt, up: this.up,
      rate: this.pacer.bitsPerSecond, alua: this.alua, connections: this.connections.size, bytesPaced: this.pacer.bytesPaced,
      held: this.hold.active, heldCommands: this.hold.heldCommands,
    };
  }
}
