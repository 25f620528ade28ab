import { strict as assert } from 'node:assert';
import {
  TextAssembler, decodeTextKeys, decodeTextPairs, encodeText, splitList, splitText,
} from '../lib/protocol/text';
import { TextFormatError } from '../lib/protocol/errors';

const t = (s: string) => Buffer.from(s, 'utf8');

describe('protocol/text: key=value codec', () => {
  it('round-trips pairs in order, with UTF-8 values', () => {
    const pairs: [string, string][] = [['InitiatorName', 'iqn.2024-01.com.example:host'], ['InitiatorAlias', 'hôte-ü'], ['X#NodeArchitecture', 'node/20']];
    const data = encodeText(pairs);
    assert.equal(data.toString('utf8'), 'InitiatorName=iqn.2024-01.com.example:host\0InitiatorAlias=hôte-ü\0X#NodeArchitecture=node/20\0');
    assert.deepEqual(decodeTextPairs(data), pairs);
  });

  it('accepts an empty value and an empty segment', () => {
    assert.deepEqual(decodeTextPairs(t('SendTargets=\0')), [['SendTargets', '']]);
    assert.deepEqual(decodeTextPairs(Buffer.alloc(0)), []);
  });

  it('splits on the first "=" only', () => {
    assert.deepEqual(decodeTextPairs(t('TargetAlias=a=b\0')), [['TargetAlias', 'a=b']]);
  });

  it('tolerates trailing NUL padding but rejects an empty pair inside', () => {
    assert.deepEqual(decodeTextPairs(t('A=1\0\0\0')), [['A', '1']]);
    assert.throws(() => decodeTextPairs(t('A=1\0\0B=2\0')), TextFormatError);
  });

  it('rejects malformed pairs', () => {
    assert.throws(() => decodeTextPairs(t('A=1')), /NUL/); // unterminated
    assert.throws(() => decodeTextPairs(t('NoEquals\0')), /no "="/);
    assert.throws(() => decodeTextPairs(t('=value\0')), /malformed key/);
    assert.throws(() => decodeTextPairs(t('1stKey=1\0')), /malformed key/);
    assert.deepEqual(decodeTextPairs(t('iSCSIProtocolLevel=1\0')), [['iSCSIProtocolLevel', '1']]);
    assert.throws(() => decodeTextPairs(t('Bad Key=1\0')), /malformed key/);
    assert.throws(() => decodeTextPairs(Buffer.from([0x41, 0x3d, 0xff, 0xfe, 0x00])), /UTF-8/);
  });

  it('limits keys to 63 bytes', () => {
    const k63 = 'K'.repeat(63);
    assert.deepEqual(decodeTextPairs(t(`${k63}=1\0`)), [[k63, '1']]);
    assert.throws(() => decodeTextPairs(t(`${'K'.repeat(64)}=1\0`)), /63 bytes/);
    assert.throws(() => encodeText([['K'.repeat(64), '1']]), TextFormatError);
  });

  it('limits values: 255 bytes each (per list item), iSCSI names 223, binary values 1024 bytes', () => {
    decodeTextPairs(t(`TargetAlias=${'a'.repeat(255)}\0`));
    assert.throws(() => decodeTextPairs(t(`TargetAlias=${'a'.repeat(256)}\0`)), /256 bytes exceeds 255/);
    assert.throws(() => decodeTextPairs(t(`TargetAlias=${'é'.repeat(128)}\0`)), /256 bytes/); // bytes, not characters
    decodeTextPairs(t(`HeaderDigest=${'a'.repeat(200)},${'b'.repeat(200)}\0`));
    decodeTextPairs(t(`TargetName=iqn.${'a'.repeat(219)}\0`));
    assert.throws(() => decodeTextPairs(t(`TargetName=iqn.${'a'.repeat(220)}\0`)), /exceeds 223/);
    decodeTextPairs(t(`CHAP_C=0x${'ab'.repeat(1024)}\0`));
    assert.throws(() => decodeTextPairs(t(`CHAP_C=0x${'ab'.repeat(1025)}\0`)), /1024/);
  });

  it('rejects duplicate keys where each key may appear once', () => {
    assert.throws(() => decodeTextKeys(t('MaxBurstLength=512\0MaxBurstLength=1024\0')), /more than once/);
    assert.deepEqual([...decodeTextKeys(t('A=1\0B=2\0'))], [['A', '1'], ['B', '2']]);
    // Ordered pairs keep repeats (SendTargets answers repeat TargetAddress).
    assert.equal(decodeTextPairs(t('TargetAddress=a\0TargetAddress=b\0')).length, 2);
  });

  it('refuses to encode a value with a NUL', () => {
    assert.throws(() => encodeText([['A', 'x\0y']]), /NUL/);
  });

  it('splits lists on commas', () => {
    assert.deepEqual(splitList('CRC32C,None'), ['CRC32C', 'None']);
    assert.deepEqual(splitList('None'), ['None']);
  });
});

describe('protocol/text: continuation over several PDUs', () => {
  it('splits long text into chunks of at most the given length and reassembles it', () => {
    const pairs: [string, string][] = [];
    for (let i = 0; i < 200; i++) pairs.push([`X-com.example.k${i}`, 'v'.repeat(100)]);
    const text = encodeText(pairs);
    const chunks = splitText(text, 8192);
    assert.ok(chunks.length > 2);
    assert.ok(chunks.every((c) => c.length <= 8192));
    const asm = new TextAssembler();
    let whole: Buffer | undefined;
    chunks.forEach((c, i) => {
      const last = i === chunks.length - 1;
      whole = asm.push(c, !last);
      assert.equal(whole === undefined, !last);
    });
    assert.deepEqual(decodeTextPairs(whole!), pairs);
    assert.equal(asm.pending, false);
  });

  it('reassembles a pair cut in the middle of its key', () => {
    const asm = new TextAssembler();
    assert.equal(asm.push(t('SendTarg'), true), undefined);
    assert.ok(asm.pending);
    assert.deepEqual(decodeTextPairs(asm.push(t('ets=All\0'), false)!), [['SendTargets', 'All']]);
  });

  it('returns short text as one chunk and never an empty list', () => {
    assert.equal(splitText(t('A=1\0'), 8192).length, 1);
    assert.deepEqual(splitText(Buffer.alloc(0), 8192), [Buffer.alloc(0)]);
    assert.throws(() => splitText(t('A=1\0'), 0), RangeError);
  });

  it('bounds the memory a peer can make it hold', () => {
    const asm = new TextAssembler(10);
    asm.push(Buffer.alloc(8), true);
    assert.throws(() => asm.push(Buffer.alloc(8), true), /exceeds 10 bytes/);
    assert.equal(asm.pending, false);
  });
});
