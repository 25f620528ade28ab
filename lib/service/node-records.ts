// Node records, as iscsiadm keeps its node database: one JSON file per node under CONFIG/nodes/NAME.json, mode
// 0600 in a 0700 directory, written atomically (a temporary file renamed over). A record holds no CHAP secret
// unless the user asked (--save-secret); otherwise `serve` takes it at start-up from CONFIG/secrets/NAME or the
// environment. Each record carries a random ISID seed made once at `node add`, so its paths keep their ISIDs across
// restarts whatever else runs on the host. A file that is not JSON, or not a record of ours, is a NodeRecordError
// naming the file, never silently skipped or overwritten.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { POLICY_NAMES, type PolicyName } from '../mpio/path-selector';
import { parseIscsiUrl, parsePathSpec } from '../url';
import { privateDir } from './config-dir';

export const RECORD_FORMAT = 'iscsi-mpio/node/1';
export type Startup = 'automatic' | 'manual';

export interface NodeRecord {
  format: typeof RECORD_FORMAT;
  name: string;
  /** iscsi://[user@]host[:port]/iqn/lun, never with a secret. */
  url: string;
  /** Path specs as --path takes them. */
  paths: string[];
  policy: PolicyName;
  startup: Startup;
  /** As --digests/--no-digests; absent = offer CRC32C, accept None. */
  digests?: boolean;
  /** Command timeout. */
  timeoutMs?: number;
  /** Per path: the TCP connect (at most 5 s of it) and each Login Response; absent = 10 s. */
  loginTimeoutMs?: number;
  chap?: { user: string; secret?: string; mutual?: { user: string; secret?: string } };
  isidSeed: string;
}

export class NodeRecordError extends Error {
  override name = 'NodeRecordError';
  constructor(message: string, readonly code = 'ENODERECORD') { super(message); }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkNodeName(name: string): string {
  if (!NAME.test(name)) throw new NodeRecordError(`node name "${name}": use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`, 'EUSAGE');
  return name;
}

/** A default name from the URL: the IQN's last part and the LUN ("disk1-lun1"). */
export function defaultNodeName(url: string): string {
  const u = parseIscsiUrl(url);
  const tail = u.target.split(/[:.]/).filter(Boolean).pop() ?? 'node';
  return `${tail.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'node'}-lun${u.lun}`;
}

export function newIsidSeed(): string {
  return randomBytes(8).toString('hex');
}

/** Checks a parsed file is one of our records; `where` names the file in the message. */
export function validateRecord(value: unknown, where: string): NodeRecord {
  const bad = (why: string) => new NodeRecordError(`${where}: ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an iscsi-mpio node record (not a JSON object)');
  const r = value as Record<string, unknown>;
  if (r.format !== RECORD_FORMAT) throw bad(`not an iscsi-mpio node record (format ${JSON.stringify(r.format ?? null)}, expected "${RECORD_FORMAT}")`);
  if (typeof r.name !== 'string' || !NAME.test(r.name)) throw bad('bad or missing "name"');
  if (typeof r.url !== 'string') throw bad('missing "url"');
  try { parseIscsiUrl(r.url); } catch (error) { throw bad((error as Error).message); }
  if (!Array.isArray(r.paths) || !r.paths.every((p) => typeof p === 'string')) throw bad('"paths" is not a list of path specs');
  for (const p of r.paths as string[]) { try { parsePathSpec(p); } catch (error) { throw bad((error as Error).message); } }
  if (!(POLICY_NAMES as readonly string[]).includes(r.policy as string)) throw bad(`unknown policy ${JSON.stringify(r.policy)}`);
  if (r.startup !== 'automatic' && r.startup !== 'manual') throw bad(`"startup" is ${JSON.stringify(r.startup)}, not "automatic" or "manual"`);
  if (r.digests !== undefined && typeof r.digests !== 'boolean') throw bad('"digests" is not true or false');
  for (const key of ['timeoutMs', 'loginTimeoutMs'] as const) {
    if (r[key] !== undefined && !(Number.isSafeInteger(r[key]) && (r[key] as number) > 0)) throw bad(`"${key}" is not a positive integer`);
  }
  if (typeof r.isidSeed !== 'string' || !/^[0-9a-f]{16}$/.test(r.isidSeed)) throw bad('bad or missing "isidSeed"');
  if (r.chap !== undefined) {
    const c = r.chap as Record<string, unknown>;
    if (typeof c !== 'object' || c === null || typeof c.user !== 'string' || (c.secret !== undefined && typeof c.secret !== 'string')) throw bad('bad "chap"');
  }
  return r as unknown as NodeRecord;
}

export class NodeStore {
  readonly dir: string;

  constructor(readonly configDir: string) {
    this.dir = path.join(configDir, 'nodes');
  }

  file(name: string): string {
    return path.join(this.dir, `${checkNodeName(name)}.json`);
  }

  /** Adds a record; a record of that name already there is an error (remove it first). */
  add(record: NodeRecord): string {
    validateRecord(record, `node ${record.name}`);
    privateDir(this.configDir);
    privateDir(this.dir);
    const file = this.file(record.name);
    if (fs.existsSync(file)) throw new NodeRecordError(`node "${record.name}" exists already (${file}); remove it first`, 'EEXIST');
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
    return file;
  }

  get(name: string): NodeRecord {
    const file = this.file(name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NodeRecordError(`no node "${name}" (under ${this.dir})`, 'ENOENT');
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new NodeRecordError(`${file}: broken record, not JSON (${(error as Error).message})`);
    }
    const record = validateRecord(value, file);
    if (record.name !== name) throw new NodeRecordError(`${file}: the record names itself "${record.name}"`);
    const mode = fs.statSync(file).mode & 0o777;
    if (record.chap?.secret !== undefined && (mode & 0o077) !== 0) {
      throw new NodeRecordError(`${file} holds a CHAP secret and is readable by others (mode ${mode.toString(8)}): chmod 600 it`, 'EACCES');
    }
    return record;
  }

  /** Every record, by name. A broken or foreign file is an error naming it (nothing is skipped silently). */
  list(): NodeRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names.filter((n) => n.endsWith('.json')).sort().map((n) => this.get(n.slice(0, -'.json'.length)));
  }

  remove(name: string): void {
    const file = this.file(name);
    try {
      fs.unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NodeRecordError(`no node "${name}" (under ${this.dir})`, 'ENOENT');
      throw error;
    }
  }

  /** The CHAP secret kept beside the records (CONFIG/secrets/NAME, first line), if there is one. */
  secretFile(name: string): string {
    return path.join(this.configDir, 'secrets', checkNodeName(name));
  }
}
