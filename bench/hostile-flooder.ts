// The attacker of bench/hostile-initiator.ts, in its own process (as on another machine): until SIGTERM it floods
// one portal with what test/target-hostile-initiator.test.ts checks case by case: sessions that spray immediate
// commands, writes with 4 GiB Expected Data Transfer Lengths, commands outside the CmdSN window, overlapping
// Data-Out and endless text; connections that never log in; logins that stop halfway. It prints "flooding" once it
// runs, and on SIGTERM its counters as one JSON line.
//   node --import tsx bench/hostile-flooder.ts ADDRESS PORT TARGET-IQN [SOURCE-PREFIX]
// SOURCE-PREFIX (e.g. 127.41.4) spreads the attack over 250 loopback source addresses, as a botnet would: one
// address for the sessions, one for the half logins, the rest for the idle connections, in turn.
import net from 'node:net';
import { type BhsInit, encodeBhs } from '../lib/wire/bhs';
import { Opcode, RESERVED_TAG } from '../lib/wire/opcodes';
import { encodeText } from '../lib/protocol/text';

const [address, portText, iqn, sourcePrefix] = process.argv.slice(2);
const SESSIONS_HOST = 1;
const HALF_LOGINS_HOST = 2;
let nextIdleHost = 0;
const source = (host: number) => (sourcePrefix ? `${sourcePrefix}.${host}` : undefined);
const port = Number(portText);
if (!address || !port || !iqn) {
  console.error('usage: hostile-flooder ADDRESS PORT TARGET-IQN [SOURCE-PREFIX]');
  process.exit(2);
}

const counters = { sessions: 0, idleConnections: 0, halfLogins: 0, pdus: 0, bytes: 0 };
let stopping = false;

function frame(bhs: BhsInit, data: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(48);
  encodeBhs({ ...bhs, dataLength: data.length } as BhsInit, header);
  counters.pdus++;
  counters.bytes += 48 + data.length;
  return Buffer.concat([header, data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
}

function connect(host: number): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, localAddress: source(host) }, () => resolve(socket));
    socket.on('error', () => resolve(undefined));
    socket.on('data', () => { /* read and forget: answers are not the point */ });
  });
}

const closed = (socket: net.Socket, ms: number) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms);
  socket.once('close', () => { clearTimeout(timer); resolve(); });
});

function loginRequest(isid: Buffer, transit: boolean): Buffer {
  return frame({
    opcode: Opcode.LoginRequest, transit, cont: false, csg: 1, nsg: transit ? 3 : 0, versionMax: 0, versionMin: 0,
    isid, tsih: 0, itt: 0, cid: 0, cmdSN: 1, expStatSN: 0,
  }, encodeText([['InitiatorName', 'iqn.2025-01.bench:hostile'], ['SessionType', 'Normal'], ['TargetName', iqn],
    ['HeaderDigest', 'None'], ['DataDigest', 'None'], ['InitialR2T', 'No'], ['ImmediateData', 'Yes']]));
}

function write10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x2a;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

/** One raw session: log in, spray a burst of bad PDUs, end with endless text (Reject and close), again. */
async function sessionAttacker(slot: number): Promise<void> {
  for (let round = 0; !stopping; round++) {
    const socket = await connect(SESSIONS_HOST);
    if (!socket) continue;
    const isid = Buffer.from([0x80, 0xbe, 0xef, slot, (round >> 8) & 0xff, round & 0xff]);
    const loggedIn = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(loginRequest(isid, true));
    await Promise.race([loggedIn, closed(socket, 1000)]);
    counters.sessions++;
    let itt = 1;
    let cmdSN = 1;
    const burst: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      burst.push(frame({ opcode: Opcode.ScsiCommand, immediate: true, final: false, read: false, write: true, attr: 1, lun: 1, itt: itt++,
        expectedDataTransferLength: 512, cmdSN, expStatSN: 0, cdb: write10(i, 1) }));
    }
    for (let i = 0; i < 64; i++) {
      burst.push(frame({ opcode: Opcode.ScsiCommand, immediate: false, final: false, read: false, write: true, attr: 1, lun: 1, itt: itt++,
        expectedDataTransferLength: 0xffffffff, cmdSN: cmdSN++, expStatSN: 0, cdb: write10(i * 128, 65535) }));
    }
    for (let i = 0; i < 64; i++) {
      burst.push(frame({ opcode: Opcode.ScsiCommand, immediate: false, final: true, read: false, write: true, attr: 1, lun: 1, itt: itt++,
        expectedDataTransferLength: 512, cmdSN: cmdSN + 5000 + i, expStatSN: 0, cdb: write10(i, 1) }, Buffer.alloc(512, 0x66)));
    }
    const overlapped = itt++;
    burst.push(frame({ opcode: Opcode.ScsiCommand, immediate: false, final: false, read: false, write: true, attr: 1, lun: 1, itt: overlapped,
      expectedDataTransferLength: 4096, cmdSN: cmdSN++, expStatSN: 0, cdb: write10(4096, 8) }));
    for (let dataSN = 0; dataSN < 2; dataSN++) {
      burst.push(frame({ opcode: Opcode.DataOut, final: dataSN === 1, lun: 1, itt: overlapped, ttt: RESERVED_TAG, expStatSN: 0, dataSN, bufferOffset: 0 }, Buffer.alloc(2048, 0x77)));
    }
    const text = encodeText(Array.from({ length: 16 }, (_, i): [string, string] => [`X-junk${i}`, 'j'.repeat(240)]));
    for (let i = 0; i < 32; i++) {
      burst.push(frame({ opcode: Opcode.TextRequest, immediate: true, final: false, cont: true, lun: 0, itt: 0x7e7e, ttt: RESERVED_TAG, cmdSN, expStatSN: 0 }, text));
    }
    socket.write(Buffer.concat(burst));
    await closed(socket, 200);
    socket.destroy();
  }
}

/** Keeps a few hundred connections open that never send a byte, replacing them as the target drops them. */
async function idleStorm(): Promise<void> {
  const open: net.Socket[] = [];
  while (!stopping) {
    const fresh = await Promise.all(Array.from({ length: 50 }, () => connect(3 + (nextIdleHost++ % 248))));
    for (const s of fresh) if (s) { open.push(s); counters.idleConnections++; }
    while (open.length > 300) open.shift()!.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const s of open) s.destroy();
}

/** Logins that send their first request (no transit) and then nothing. */
async function halfLogins(): Promise<void> {
  const open: net.Socket[] = [];
  for (let n = 0; !stopping; n++) {
    const socket = await connect(HALF_LOGINS_HOST);
    if (socket) {
      socket.write(loginRequest(Buffer.from([0x80, 0xbe, 0xef, 0xff, (n >> 8) & 0xff, n & 0xff]), false));
      open.push(socket);
      counters.halfLogins++;
    }
    while (open.length > 50) open.shift()!.destroy();
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const s of open) s.destroy();
}

console.log('flooding');
const work = Promise.all([sessionAttacker(1), sessionAttacker(2), sessionAttacker(3), idleStorm(), halfLogins()]);
process.on('SIGTERM', () => {
  stopping = true;
  void work.then(() => {
    console.log(JSON.stringify(counters));
    process.exit(0);
  });
});
