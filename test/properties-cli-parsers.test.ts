// Properties of what users type: the iSCSI URL and path specs (lib/url.ts), sizes and durations (lib/units.ts).
// Built values parse back to their parts; arbitrary text parses or fails with the module's own error; a CHAP secret
// never survives redaction or an error message.
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { MAX_DURATION_MS, parseDuration, parseSize, UnitError } from '../lib/units';
import { IscsiUrlError, parseIscsiUrl, parsePathSpec, parsePortal, redactUrl } from '../lib/url';

const RUNS = { numRuns: 1000 };
const chars = (set: string, min: number, max: number) => fc.string({ unit: fc.constantFrom(...set.split('')), minLength: min, maxLength: max });
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const dnsName = fc.array(chars(LOWER + '0123456789-', 1, 12), { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const ipv6 = fc.ipV6();
const iqn = fc.tuple(fc.integer({ min: 1990, max: 2099 }), fc.integer({ min: 1, max: 12 }), dnsName, chars(LOWER + '0123456789.-:', 1, 20))
  .map(([y, m, d, rest]) => `iqn.${y}-${String(m).padStart(2, '0')}.${d}:${rest}`);
// Everything a secret may hold in the URL form: not `@`, `/`, or whitespace, which end or break the authority.
const secret = chars(`${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&'()*+,;=:%-._~`, 1, 30);
const user = chars(`${LOWER}0123456789.-_:`, 1, 20);

describe('properties: iSCSI URLs and path specs', () => {
  it('a URL built from parts parses back to those parts', () => {
    const parts = fc.record({
      host: fc.oneof(ipv4, dnsName, ipv6), port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), target: iqn,
      lun: fc.nat(16383), user: fc.option(user, { nil: undefined }), secret: fc.option(secret, { nil: undefined }),
    });
    fc.assert(fc.property(parts, (p) => {
      const credentials = p.user === undefined ? '' : `${p.user}${p.secret === undefined ? '' : `%${p.secret}`}@`;
      const host = p.host.includes(':') ? `[${p.host}]` : p.host;
      const url = `iscsi://${credentials}${host}${p.port === undefined ? '' : `:${p.port}`}/${p.target}/${p.lun}`;
      const expected: Record<string, unknown> = { portal: { address: p.host, port: p.port ?? 3260 }, target: p.target, lun: p.lun };
      if (p.user !== undefined) expected.user = p.user;
      if (p.user !== undefined && p.secret !== undefined) expected.secret = p.secret;
      assert.deepEqual(parseIscsiUrl(url), expected);
      // Redaction takes out exactly the secret.
      assert.equal(redactUrl(url), p.user !== undefined && p.secret !== undefined ? url.replace(`%${p.secret}@`, '%***@') : url);
    }), RUNS);
  });

  it('any text parses as a URL or fails with IscsiUrlError, whose message never holds the CHAP secret', () => {
    const junk = fc.string({ unit: fc.constantFrom(...'iscsi:/[]@%.0123456789abc-'.split(''), 'é', '%E0', '%zz'), maxLength: 40 });
    const withSecret = fc.tuple(junk, fc.constantFrom('iscsi://', ''), user, chars('ZQXJ/@%:', 0, 6), junk)
      .map(([pre, scheme, u, s, post]) => ({ text: `${scheme}${u}%ZQX${s}JQZ@${post}${pre}`, secret: `ZQX${s}JQZ` }));
    fc.assert(fc.property(fc.oneof(junk.map((text) => ({ text, secret: undefined })), withSecret), ({ text, secret: s }) => {
      try {
        const url = parseIscsiUrl(text);
        assert.ok(url.portal.port >= 1 && url.portal.port <= 65535 && url.lun >= 0 && url.lun <= 16383 && url.target.length > 0);
      } catch (error) {
        assert.ok(error instanceof IscsiUrlError, `${(error as Error).name}: ${(error as Error).message}`);
        if (s !== undefined) assert.ok(!error.message.includes(s), error.message);
      }
      if (s !== undefined) assert.ok(!redactUrl(text).includes(s), redactUrl(text));
    }), { numRuns: 3000 });
  });

  it('path specs [ADDRESS][@DEVICE][=PORTAL] parse back; anything else is IscsiUrlError', () => {
    const address = fc.oneof(ipv4, ipv6.map((a) => `[${a}]`));
    const device = chars(`${LOWER}0123456789.-_`, 1, 15);
    const portal = fc.tuple(address, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }));
    fc.assert(fc.property(fc.option(address, { nil: undefined }), fc.option(device, { nil: undefined }), fc.option(portal, { nil: undefined }), (a, d, p) => {
      const text = `${a ?? ''}${d === undefined ? '' : `@${d}`}${p === undefined ? '' : `=${p[0]}${p[1] === undefined ? '' : `:${p[1]}`}`}`;
      if (a === undefined && d === undefined && p === undefined) {
        assert.throws(() => parsePathSpec(text), IscsiUrlError);
        return;
      }
      const expected: Record<string, unknown> = {};
      if (a !== undefined) expected.sourceAddress = a.replace(/^\[|\]$/g, '');
      if (d !== undefined) expected.device = d;
      if (p !== undefined) expected.portal = { address: p[0].replace(/^\[|\]$/g, ''), port: p[1] ?? 3260 };
      assert.deepEqual(parsePathSpec(text), expected);
    }), RUNS);
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (text) => {
      try { parsePathSpec(text); } catch (error) { assert.ok(error instanceof IscsiUrlError, String(error)); }
      try {
        const p = parsePortal(text);
        assert.ok(p.port >= 1 && p.port <= 65535 && p.address.length > 0);
      } catch (error) { assert.ok(error instanceof IscsiUrlError, String(error)); }
    }), RUNS);
  });
});

const UNITS: ReadonlyArray<[string[], number]> = [
  [['', 'b', 'B'], 1],
  [['k', 'K', 'kb', 'KB', 'KiB', 'kib'], 2 ** 10],
  [['m', 'M', 'MB', 'MiB'], 2 ** 20],
  [['g', 'G', 'GB', 'GiB'], 2 ** 30],
  [['t', 'T', 'TiB'], 2 ** 40],
];

describe('properties: sizes and durations', () => {
  it('N with any unit spelling is N times the binary unit; plain numbers are bytes', () => {
    const sized = fc.constantFrom(...UNITS).chain(([spellings, unit]) => fc.tuple(
      fc.integer({ min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / unit) }), fc.constantFrom(...spellings), fc.constant(unit), fc.constantFrom('', ' ')));
    fc.assert(fc.property(sized, ([n, spelling, unit, space]) => {
      assert.equal(parseSize(`${n}${space}${spelling}`), n * unit);
    }), RUNS);
  });

  it('fractions count when they come to whole bytes (1.5GiB), and are refused when they do not', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(...UNITS.slice(1)), (whole, tenth, [spellings, unit]) => {
      const text = `${whole}.${tenth}${spellings[spellings.length - 1]}`;
      const exact = (whole * 10 + tenth) * unit;
      if (exact % 10 === 0) assert.equal(parseSize(text), exact / 10);
      else assert.throws(() => parseSize(text), UnitError);
    }), RUNS);
  });

  it('any text is a whole number of bytes at least the minimum, or a UnitError naming the option', () => {
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: fc.constantFrom(...'0123456789.kKmMgGiIbB -eE+x'.split('')), maxLength: 12 }));
    fc.assert(fc.property(text, fc.constantFrom(0, 1, 512), (t, min) => {
      try {
        const n = parseSize(t, { what: '--length', min });
        assert.ok(Number.isSafeInteger(n) && n >= min, `${t} -> ${n}`);
      } catch (error) {
        assert.ok(error instanceof UnitError && error.message.startsWith('--length '), String(error));
      }
    }), { numRuns: 3000 });
  });

  it('durations: plain numbers are milliseconds; ms, s, m, h scale; the result is whole, above zero and a valid timer', () => {
    const units: Array<[string, number]> = [['', 1], ['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000]];
    fc.assert(fc.property(fc.constantFrom(...units), fc.integer({ min: 1, max: 2 ** 31 }), ([unit, scale], n) => {
      const text = `${n}${unit}`;
      if (n * scale > MAX_DURATION_MS) assert.throws(() => parseDuration(text), UnitError);
      else assert.equal(parseDuration(text), n * scale);
    }), RUNS);
    const text = fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: fc.constantFrom(...'0123456789.-msShH '.split('')), maxLength: 10 }));
    fc.assert(fc.property(text, (t) => {
      try {
        const ms = parseDuration(t, '--timeout');
        assert.ok(Number.isInteger(ms) && ms >= 1 && ms <= MAX_DURATION_MS, `${t} -> ${ms}`);
      } catch (error) {
        assert.ok(error instanceof UnitError && error.message.startsWith('--timeout '), String(error));
      }
    }), { numRuns: 3000 });
    for (const bad of ['abc', '0', '-5', '0ms', '0.0001s', '', '1e3', 'NaN', 'Infinity']) assert.throws(() => parseDuration(bad), UnitError, bad);
  });
});
