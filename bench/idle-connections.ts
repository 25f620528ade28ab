// What an idle connection costs in resident memory, on both sides: the embedded target (this process) and the
// initiator's PDU connections (a child process), N connections that each logged in (one Login Request and its
// Response: every deframer has seen its first bytes) and then say nothing. Reports the RSS growth per connection
// on each side, medians of the rounds; each round in fresh processes (memory freed by a round stays resident).
//   npm run bench:idle-connections [-- --connections 1000 --rounds 3]
import { spawn } from 'node:child_process';
import { Target } from '../lib/target/target';
import { PduConnection } from '../lib/wire/connection';
import { Opcode } from '../lib/wire/opcodes';
import { encodeText } from '../lib/protocol/text';

const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : fallback; };
const N = Number(arg('--connections', '1000'));
const ROUNDS = Number(arg('--rounds', '3'));
const NET = '127.64.3';

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function rssKiB(): Promise<number> {
  for (let i = 0; i < 3; i++) { (globalThis as { gc?: () => void }).gc?.(); await settle(100); }
  return Math.round(process.memoryUsage().rss / 1024);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The child: N initiator PDU connections that log in and then hold; prints its RSS growth per connection in KiB. */
async function child(host: string, port: number, iqn: string): Promise<void> {
  const before = await rssKiB();
  const connections: PduConnection[] = [];
  for (let i = 0; i < N; i++) {
    const c = await PduConnection.connect({ host, port, sourceAddress: `${NET}.${10 + (i % 200)}`, role: 'initiator' });
    const answered = new Promise<void>((resolve, reject) => { c.once('pdu', () => resolve()); c.once('error', reject); c.once('close', () => reject(new Error('closed during login'))); });
    const isid = Buffer.from([0x80, 0, 0, 0, i >> 8, i & 0xff]);
    c.send({
      opcode: Opcode.LoginRequest, transit: true, cont: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0, isid, tsih: 0, itt: 0, cid: 0, cmdSN: 1, expStatSN: 0,
    }, encodeText([
      ['InitiatorName', `iqn.2025-01.test:idle-${i}`], ['SessionType', 'Normal'], ['TargetName', iqn], ['HeaderDigest', 'None'], ['DataDigest', 'None'],
      ['InitialR2T', 'No'], ['ImmediateData', 'Yes'], ['MaxRecvDataSegmentLength', '262144'], ['ErrorRecoveryLevel', '0'],
    ]));
    await answered;
    connections.push(c);
  }
  const after = await rssKiB();
  process.stdout.write(`${JSON.stringify({ initiatorKiBPerConnection: (after - before) / N })}\n`);
  await new Promise((r) => process.stdin.once('end', r).resume());
  for (const c of connections) c.destroy();
}

async function round(): Promise<{ target: number; initiator: number }> {
  const target = await Target.start({
    portals: [`${NET}.1:0`], luns: ['1M'], nopInterval: 0,
    caps: { maxConnections: N + 10, maxLoginConnections: N + 10, maxLoginConnectionsPerAddress: N + 10 },
  });
  try {
    const m = target.members[0];
    const before = await rssKiB();
    const c = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', m.address, String(m.port), target.iqn, '--connections', String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      c.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
      c.on('exit', (code) => reject(new Error(`child exited ${code}: ${out}`)));
    });
    const sessions = target.sessions().length;
    if (sessions !== N) throw new Error(`${sessions} sessions logged in, not ${N}`);
    const after = await rssKiB();
    c.stdin.end();
    await new Promise((r) => c.once('exit', r));
    return { target: (after - before) / N, initiator: JSON.parse(line).initiatorKiBPerConnection };
  } finally {
    await target.stop();
  }
}

/** One round in a process of its own; its result. */
function roundProcess(): Promise<{ target: number; initiator: number }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--round', '--connections', String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`round exited ${code}: ${out}`))));
  });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i > 0) return child(process.argv[i + 1], Number(process.argv[i + 2]), process.argv[i + 3]);
  if (process.argv.includes('--round')) return void process.stdout.write(JSON.stringify(await round()));
  const results = [];
  for (let r = 0; r < ROUNDS; r++) results.push(await roundProcess());
  const out = {
    connections: N, rounds: ROUNDS,
    targetKiBPerConnection: Math.round(median(results.map((r) => r.target))),
    initiatorKiBPerConnection: Math.round(median(results.map((r) => r.initiator))),
    perRound: results.map((r) => ({ target: Math.round(r.target), initiator: Math.round(r.initiator) })),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => { process.stderr.write(`${(error as Error).stack}\n`); process.exit(1); });
