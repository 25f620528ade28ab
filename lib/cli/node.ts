// `iscsi-mpio node add|list|show|remove` (the records `serve` logs in, lib/service/node-records.ts) and
// `node login|logout NAME` (asks the running service, over its control socket, to log a node in or out now).
import type { Command } from 'commander';
import { parseIscsiUrl, parsePathSpec, type IscsiUrl } from '../url';
import { NodeStore, RECORD_FORMAT, checkNodeName, defaultNodeName, newIsidSeed, type NodeRecord } from '../service/node-records';
import { serviceDirs } from '../service/config-dir';
import { askService } from '../service/control-client';
import { keepSecret, printResult, warn } from './output';
import { addPolicyOption, addSessionOptions, policyOf, readSecretFile, loginTimeoutOf, timeoutOf, type SessionFlags } from './session-options';
import { UsageError } from './usage-error';

export function addConfigOption(command: Command): Command {
  return command.option('--config <dir>', 'the node records and the service\'s sockets (default $XDG_CONFIG_HOME/iscsi-mpio)');
}

interface AddFlags extends SessionFlags { policy?: string; name?: string; startup?: string; saveSecret?: boolean; config?: string; json?: boolean }

function urlWithoutSecret(u: IscsiUrl, user?: string): string {
  const host = u.portal.address.includes(':') ? `[${u.portal.address}]` : u.portal.address;
  return `iscsi://${user ? `${encodeURIComponent(user)}@` : ''}${host}:${u.portal.port}/${u.target.replace(/%/g, "%25").replace(/\//g, "%2F")}/${u.lun}`;
}

/** What `node show` and `node list --json` print: the record, the secret replaced by whether one is stored. */
export function publicRecord(r: NodeRecord): Record<string, unknown> {
  const { chap, format: _format, ...rest } = r;
  void _format;
  const out: Record<string, unknown> = { ...rest };
  if (chap) {
    out.chap = { user: chap.user, secretStored: chap.secret !== undefined, ...(chap.mutual ? { mutualUser: chap.mutual.user } : {}) };
  }
  return out;
}

function buildRecord(urlText: string, flags: AddFlags): { record: NodeRecord; secretGiven: boolean } {
  const url = parseIscsiUrl(urlText);
  for (const p of flags.path ?? []) parsePathSpec(p);
  const startup = flags.startup ?? 'automatic';
  if (startup !== 'automatic' && startup !== 'manual') throw new UsageError(`--startup "${startup}": automatic or manual`);
  const name = checkNodeName(flags.name ?? defaultNodeName(urlText));
  const user = url.user ?? flags.chapUser;
  const secret = url.secret ?? flags.chapSecret ?? (flags.chapSecretFile === undefined ? undefined : readSecretFile(flags.chapSecretFile, '--chap-secret-file'));
  if (secret !== undefined) keepSecret(secret);
  if (secret !== undefined && !user) throw new UsageError('a CHAP secret without a user (give --chap-user or user@ in the URL)');
  if (flags.saveSecret && secret === undefined) throw new UsageError('--save-secret without a secret to save (user%secret@ in the URL, --chap-secret or --chap-secret-file)');
  const record: NodeRecord = {
    format: RECORD_FORMAT, name, url: urlWithoutSecret(url, user), paths: flags.path ?? [], policy: policyOf(flags),
    startup, timeoutMs: timeoutOf(flags), loginTimeoutMs: loginTimeoutOf(flags), isidSeed: newIsidSeed(),
  };
  if (flags.digests !== undefined) record.digests = flags.digests;
  if (user) {
    record.chap = { user, ...(flags.saveSecret ? { secret } : {}) };
    if (flags.mutualUser) record.chap.mutual = { user: flags.mutualUser, ...(flags.saveSecret && flags.mutualSecret ? { secret: flags.mutualSecret } : {}) };
  }
  return { record, secretGiven: secret !== undefined };
}

export function registerNode(program: Command): void {
  const node = program.command('node').description('node records: the targets `serve` logs in (as iscsiadm -m node)');

  addConfigOption(addPolicyOption(addSessionOptions(node.command('add <url>').description('record a node (file mode 0600; no secret unless --save-secret)'))))
    .option('--name <name>', 'the node\'s name (default: the IQN\'s last part and the LUN)')
    .option('--startup <mode>', 'automatic (serve logs it in) or manual (node login)', 'automatic')
    .option('--save-secret', 'store the CHAP secret in the record (default: serve reads CONFIG/secrets/NAME or $ISCSI_MPIO_CHAP_SECRET)')
    .option('--json', 'machine-readable output')
    .action((urlText: string, flags: AddFlags) => {
      const { record, secretGiven } = buildRecord(urlText, flags);
      const store = new NodeStore(serviceDirs(flags.config).config);
      const file = store.add(record);
      if (secretGiven && !flags.saveSecret) {
        warn(`the CHAP secret was not stored; serve reads it from ${store.secretFile(record.name)} or $ISCSI_MPIO_CHAP_SECRET (--save-secret stores it in the record)`);
      }
      printResult({ ...publicRecord(record), file }, !!flags.json, () => `node ${record.name} added (${file})`);
    });

  addConfigOption(node.command('list').description('list the node records'))
    .option('--json', 'machine-readable output')
    .action((flags: { config?: string; json?: boolean }) => {
      const records = new NodeStore(serviceDirs(flags.config).config).list();
      printResult(records.map(publicRecord), !!flags.json, () => (records.length === 0 ? '(no nodes)'
        : records.map((r) => `${r.name}  ${r.url}  ${r.paths.length || 1} path${r.paths.length > 1 ? 's' : ''}  ${r.policy}  ${r.startup}`).join('\n')));
    });

  addConfigOption(node.command('show <name>').description('print one node record'))
    .option('--json', 'machine-readable output')
    .action((name: string, flags: { config?: string; json?: boolean }) => {
      const r = new NodeStore(serviceDirs(flags.config).config).get(name);
      const shown = publicRecord(r);
      printResult(shown, !!flags.json, () => [
        `name:     ${r.name}`, `url:      ${r.url}`, `paths:    ${r.paths.join(' ') || '(routing decides)'}`, `policy:   ${r.policy}`,
        `startup:  ${r.startup}`, `digests:  ${r.digests === undefined ? 'offer CRC32C, accept None' : r.digests ? 'required' : 'refused'}`,
        `timeout:  ${r.timeoutMs ?? 30000} ms (login ${r.loginTimeoutMs ?? 10000} ms)`, `chap:     ${r.chap ? `${r.chap.user} (secret ${r.chap.secret !== undefined ? 'stored in the record' : 'read at start-up'})` : 'none'}`,
        `isidSeed: ${r.isidSeed}`,
      ].join('\n'));
    });

  addConfigOption(node.command('remove <name>').description('delete a node record (a running service keeps the device until `node logout` or SIGHUP)'))
    .action((name: string, flags: { config?: string }) => {
      new NodeStore(serviceDirs(flags.config).config).remove(name);
    });

  for (const [verb, what] of [['login', 'log a node in on the running service and export it'], ['logout', 'unexport a node and log it out on the running service']] as const) {
    addConfigOption(node.command(`${verb} <name>`).description(what))
      .option('--json', 'machine-readable output')
      .action(async (name: string, flags: { config?: string; json?: boolean }) => {
        const result = await askService(serviceDirs(flags.config), { command: verb, name });
        printResult(result, !!flags.json, () => `node ${name}: ${verb === 'login' ? 'logged in' : 'logged out'}`);
      });
  }
}

export function registerPolicy(program: Command): void {
  addConfigOption(program.command('policy <name> <policy>').description('switch a served node\'s path policy now (the record keeps its own)'))
    .option('--json', 'machine-readable output')
    .action(async (name: string, policy: string, flags: { config?: string; json?: boolean }) => {
      const result = await askService(serviceDirs(flags.config), { command: 'policy', name, policy: policyOf({ policy }) });
      printResult(result, !!flags.json, () => `node ${name}: policy ${policy}`);
    });
}
