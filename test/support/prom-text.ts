// A strict reader of the Prometheus text exposition format (version 0.0.4), for checking what /metrics serves with
// the format's rules rather than our own output's shape: HELP/TYPE lines, metric and label name grammar, label value
// escapes, float values (+Inf, -Inf, NaN), each family contiguous with its TYPE before its samples, histogram
// series as _bucket (with le, cumulative, ending at +Inf = _count), _sum and _count. Throws on the first violation.
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromFamily { name: string; help: string; type: string; samples: PromSample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value "${text}" in: ${line}`);
  return Number(text);
}

function parseSample(line: string): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
  if (!m) throw new Error(`not a sample line: ${line}`);
  const labels: Record<string, string> = {};
  let rest = m[3] ?? '';
  while (rest.length > 0) {
    const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
    if (!l || !LABEL.test(l[1])) throw new Error(`bad label list "${m[3]}" in: ${line}`);
    if (l[1] in labels) throw new Error(`label ${l[1]} twice in: ${line}`);
    labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    rest = rest.slice(l[0].length);
  }
  return { name: m[1], labels, value: parseValue(m[4], line) };
}

export function parsePromText(text: string): PromFamily[] {
  const families = new Map<string, PromFamily>();
  let current: PromFamily | undefined;
  const familyOf = (sample: string): PromFamily | undefined => {
    if (!current) return undefined;
    const suffixes = current.type === 'histogram' ? ['_bucket', '_sum', '_count'] : current.type === 'summary' ? ['_sum', '_count'] : [];
    return sample === current.name || suffixes.some((s) => sample === current!.name + s) ? current : undefined;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      let f = families.get(name);
      if (!f) {
        f = { name, help: '', type: 'untyped', samples: [] };
        families.set(name, f);
      } else if (f !== current) throw new Error(`family ${name} is not contiguous`);
      if (kind === 'TYPE') {
        if (f.samples.length > 0) throw new Error(`TYPE after samples of ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type in: ${line}`);
        f.type = rest;
      } else f.help = rest;
      current = f;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line);
    const f = familyOf(sample.name);
    if (!f) throw new Error(`sample ${sample.name} outside its family (no HELP/TYPE right before it)`);
    f.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return [...families.values()];
}

function checkHistogram(f: PromFamily): void {
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${s.name} without le`);
      entry.buckets.push([parseValue(le, s.name), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
    else if (s.name.endsWith('_sum')) entry.sum = s.value;
  }
  for (const [key, e] of series) {
    const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`${f.name}${key}: buckets not cumulative`);
    const inf = sorted.at(-1);
    if (!inf || inf[0] !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (e.count === undefined || e.sum === undefined) throw new Error(`${f.name}${key}: no _count or _sum`);
    if (inf[1] !== e.count) throw new Error(`${f.name}${key}: +Inf bucket ${inf[1]} is not _count ${e.count}`);
  }
}
