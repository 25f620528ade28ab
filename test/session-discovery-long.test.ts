// SendTargets whose answer does not fit one Text Response: with MaxRecvDataSegmentLength 8192 declared, tgtd sends it
// in pieces (F clear and a Target Transfer Tag until the last; tgtd cuts pairs without setting C), and the initiator
// must ask for the rest (RFC 7143 §11.10.4) until it has every target, as iscsi-ls sees them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { deriveIsid } from '../lib/protocol/isid';
import { sendTargets } from '../lib/session/discovery';
import { PduConnection } from '../lib/wire/connection';
import type { ReceivedPdu } from '../lib/wire/deframer';
import { Opcode } from '../lib/wire/opcodes';
import { loopbackPortal, requireTools, Tgtd } from './support/tgtd';

const TARGETS = 60;
// Long names (the IQN limit is 223 bytes) so that the answer passes 8192 bytes.
const name = (i: number) => `iqn.2026-11.io.iscsi-mpio.test:${'long-target-name-'.repeat(10)}${String(i).padStart(3, '0')}`;

describe('SendTargets answered over several Text Responses (tgtd)', function () {
  let tgtd: Tgtd | undefined;
  const portal = loopbackPortal(41, 16800 + (process.pid % 200));

  before(async function () {
    requireTools(this, 'tgtd', 'tgtadm', 'iscsi-ls');
    tgtd = await Tgtd.start([portal]);
    for (let i = 0; i < TARGETS; i++) await tgtd.addTarget({ name: name(i), luns: [] });
  });
  after(async () => { await tgtd?.stop(); });

  it('asks for the rest until it has every target, the same list iscsi-ls gets', async () => {
    const [host, port] = portal.split(':');
    // Count the Text Responses on the wire, whatever connection the discovery opens.
    const responses: boolean[] = []; // the F bit of each
    const emit = PduConnection.prototype.emit;
    PduConnection.prototype.emit = function (this: PduConnection, event: string | symbol, ...args: unknown[]) {
      const pdu = args[0] as ReceivedPdu;
      if (event === 'pdu' && pdu.bhs.opcode === Opcode.TextResponse) responses.push(pdu.bhs.final);
      return emit.call(this, event, ...args);
    };
    let targets;
    try {
      targets = await sendTargets({
        initiatorName: 'iqn.2026-11.io.iscsi-mpio:test', portal: { address: host, port: Number(port) },
        isid: deriveIsid({ initiatorName: 'iqn.2026-11.io.iscsi-mpio:test', portal }), operational: { maxRecvDataSegmentLength: 8192 },
      });
    } finally {
      PduConnection.prototype.emit = emit;
    }
    assert.ok(responses.length >= 2 && responses.slice(0, -1).every((f) => !f) && responses[responses.length - 1],
      `several Text Responses, only the last with F set: ${JSON.stringify(responses)}`);
    const ours = targets.map((t) => t.name).sort();
    assert.deepEqual(ours, Array.from({ length: TARGETS }, (_, i) => name(i)).sort());
    const listed = execFileSync('iscsi-ls', [`iscsi://${portal}`], { encoding: 'utf8' });
    assert.deepEqual(ours, [...listed.matchAll(/Target:(\S+)/g)].map((m) => m[1]).sort());
  });
});
