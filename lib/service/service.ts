// The long-running side (`iscsi-mpio serve`): logs in every automatic node record (degraded when some paths are
// down; a node with no path up is retried in the background), keeps the paths alive (the device's checker and the
// sessions' reconnects), exports each device over NBD on its own Unix socket (and on a shared TCP listener when
// asked), answers the control socket (status, node login/logout, policy) and optionally serves /metrics.
// stop(): no new clients, in-flight NBD requests finish and are answered, each device is flushed and logged out.
import fs from 'node:fs';
import http from 'node:http';
import { Initiator, type ChapOptions, type ConnectRequest } from '../initiator';
import type { MultipathDevice } from '../mpio/multipath-device';
import type { PolicyName } from '../mpio/path-selector';
import { deviceExport } from '../nbd/device-export';
import { NbdServer, type NbdListen } from '../nbd/server';
import { parseIscsiUrl, parsePathSpec } from '../url';
import { controlSocketPath, nbdSocketPath, privateDir, type ServiceDirs } from './config-dir';
import { ServiceError, type ControlRequest } from './control-client';
import { ControlServer } from './control-server';
import { MpioMetrics } from './metrics';
import { NodeStore, type NodeRecord } from './node-records';
import { nodeStatus, type NodeStatus, type PathHistory, type ServiceStatus } from './status';

export interface ServiceOptions {
  dirs: ServiceDirs;
  /** Also export every device on this TCP address (export name = node name). */
  nbdTcp?: { host: string; port: number };
  /** Serve Prometheus /metrics here. */
  metrics?: { host: string; port: number };
  /** How long to wait between login attempts of a node that has no path up. Default 5000. */
  retryMs?: number;
  /** One line per event (logins, failovers, errors). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  initiatorName?: string;
}

interface RunningNode {
  record: NodeRecord;
  device: MultipathDevice;
  nbd: NbdServer;
  history: Map<number, PathHistory>;
}

export class Service {
  readonly store: NodeStore;
  private readonly initiator: Initiator;
  private readonly running = new Map<string, RunningNode>();
  /** Nodes being logged in, and automatic nodes waiting to retry, with their last error. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly down = new Map<string, { error: Error; at: Date; timer?: NodeJS.Timeout }>();
  private control?: ControlServer;
  private tcp?: NbdServer;
  private metricsServer?: http.Server;
  readonly metrics = new MpioMetrics();
  private stopping = false;
  private readonly log: (line: string) => void;

  constructor(private readonly options: ServiceOptions) {
    this.store = new NodeStore(options.dirs.config);
    this.initiator = new Initiator({ name: options.initiatorName });
    this.log = options.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    privateDir(this.options.dirs.config);
    privateDir(this.options.dirs.runtime);
    const records = this.store.list(); // a broken record stops the start: better than serving half the nodes silently
    this.control = await ControlServer.listen(controlSocketPath(this.options.dirs), (r) => this.handle(r));
    try {
      if (this.options.nbdTcp) this.tcp = await new NbdServer([], { onProtocolError: (e) => this.log(`nbd: ${e.message}`) }).listen(this.options.nbdTcp);
      if (this.options.metrics) this.metricsServer = await this.serveMetrics(this.options.metrics);
      await Promise.all(records.filter((r) => r.startup === 'automatic').map((r) => this.loginAutomatic(r.name)));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Where /metrics is served (the port the kernel chose for port 0). */
  get metricsAddress(): { host: string; port: number } | undefined {
    const a = this.metricsServer?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  get tcpAddress(): NbdListen | undefined { return this.tcp?.address; }

  /** Logs a node in and exports it; a node already up is an error (EALREADY). */
  async login(name: string): Promise<NodeStatus> {
    if (this.stopping) throw new ServiceError('the service is stopping', 'ESHUTDOWN');
    if (this.running.has(name)) throw new ServiceError(`node ${name} is logged in already`, 'EALREADY');
    const pending = this.starting.get(name);
    if (pending) await pending;
    else {
      const started = this.bringUp(this.store.get(name)).finally(() => this.starting.delete(name));
      this.starting.set(name, started);
      await started;
    }
    return this.nodeStatus(name);
  }

  /** Unexports a node (its clients finish their requests), flushes and logs it out. */
  async logout(name: string): Promise<void> {
    const waiting = this.down.get(name);
    if (waiting) { clearTimeout(waiting.timer); this.down.delete(name); }
    const node = this.running.get(name);
    if (!node) {
      if (waiting) return;
      throw new ServiceError(`node ${name} is not logged in`, 'ENOTCONN');
    }
    this.running.delete(name);
    this.tcp?.removeExport(name);
    this.metrics.remove(name);
    await node.nbd.close();
    try {
      await node.device.flush();
    } catch (error) {
      this.log(`${name}: flush before logout failed: ${(error as Error).message}`);
    }
    await node.device.close();
    this.log(`${name}: logged out`);
  }

  setPolicy(name: string, policy: PolicyName): NodeStatus {
    const node = this.running.get(name);
    if (!node) throw new ServiceError(`node ${name} is not logged in`, 'ENOTCONN');
    node.device.setPolicy(policy);
    this.log(`${name}: policy ${policy}`);
    return this.nodeStatus(name);
  }

  /** SIGHUP: reads the records again; logs out nodes whose record is gone, logs in new automatic ones. */
  async reload(): Promise<void> {
    const records = this.store.list();
    const names = new Set(records.map((r) => r.name));
    for (const name of [...this.running.keys(), ...this.down.keys()]) if (!names.has(name)) await this.logout(name);
    await Promise.all(records.filter((r) => r.startup === 'automatic' && !this.running.has(r.name) && !this.down.has(r.name) && !this.starting.has(r.name))
      .map((r) => this.loginAutomatic(r.name)));
  }

  status(): ServiceStatus {
    const names = new Set<string>([...this.safeRecords().map((r) => r.name), ...this.running.keys(), ...this.down.keys()]);
    return {
      pid: process.pid, config: this.options.dirs.config, control: controlSocketPath(this.options.dirs),
      metrics: this.metricsAddress ? `http://${this.metricsAddress.host}:${this.metricsAddress.port}/metrics` : null,
      nodes: [...names].sort().map((n) => this.nodeStatus(n)),
    };
  }

  /** SIGTERM: no new clients; in-flight I/O finishes; every device flushed and logged out. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const d of this.down.values()) clearTimeout(d.timer);
    await Promise.allSettled(this.starting.values());
    await this.tcp?.close();
    await Promise.all([...this.running.keys()].map((n) => this.logout(n)));
    this.down.clear();
    await this.control?.close();
    if (this.metricsServer) {
      this.metricsServer.closeAllConnections();
      await new Promise((resolve) => this.metricsServer!.close(resolve));
    }
  }

  // ---- inside ----

  private safeRecords(): NodeRecord[] {
    try { return this.store.list(); } catch { return [...this.running.values()].map((n) => n.record); }
  }

  private nodeStatus(name: string): NodeStatus {
    const node = this.running.get(name);
    let record: NodeRecord | undefined = node?.record;
    try { record ??= this.store.get(name); } catch { /* removed since */ }
    const uris = node ? [node.nbd.uri(name), ...(this.tcp ? [this.tcp.uri(name)] : [])] : [];
    return nodeStatus(name, record, node && { device: node.device, uris, history: node.history }, this.down.get(name));
  }

  /** An automatic node at start-up or reload: failures are logged and retried, never fatal to the service. */
  private async loginAutomatic(name: string): Promise<void> {
    try {
      await this.login(name);
    } catch (error) {
      if (this.stopping || this.running.has(name)) return;
      const e = error as Error;
      const retryMs = this.options.retryMs ?? 5000;
      this.log(`${name}: not logged in: ${e.message}; retrying every ${retryMs} ms`);
      const timer = setTimeout(() => {
        const d = this.down.get(name);
        if (d?.timer !== timer || this.stopping) return;
        this.down.delete(name);
        void this.loginAutomatic(name);
      }, retryMs);
      this.down.set(name, { error: e, at: new Date(), timer });
    }
  }

  private connectRequest(record: NodeRecord): ConnectRequest {
    const url = parseIscsiUrl(record.url);
    const request: ConnectRequest = {
      target: url.target, portal: url.portal, lun: url.lun, paths: record.paths.map(parsePathSpec),
      policy: record.policy, digests: record.digests, commandTimeoutMs: record.timeoutMs, loginTimeoutMs: record.loginTimeoutMs,
      reconnect: true, isidSeed: record.isidSeed,
      pathId: record.name,
    };
    if (record.chap) request.chap = this.chapOf(record);
    return request;
  }

  /** The record's CHAP secret, else CONFIG/secrets/NAME, else $ISCSI_MPIO_CHAP_SECRET. */
  private chapOf(record: NodeRecord): ChapOptions {
    const env = this.options.env ?? process.env;
    const chap = record.chap!;
    let secret = chap.secret;
    if (secret === undefined) {
      const file = this.store.secretFile(record.name);
      try { secret = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0] || undefined; } catch { /* not there */ }
    }
    secret ??= env.ISCSI_MPIO_CHAP_SECRET || undefined;
    if (!secret) {
      throw new ServiceError(`node ${record.name}: no CHAP secret for "${chap.user}" (write it to ${this.store.secretFile(record.name)}, mode 0600, or set $ISCSI_MPIO_CHAP_SECRET)`, 'ENOSECRET');
    }
    const out: ChapOptions = { user: chap.user, secret };
    if (chap.mutual) {
      const mutual = chap.mutual.secret ?? env.ISCSI_MPIO_MUTUAL_SECRET;
      if (!mutual) throw new ServiceError(`node ${record.name}: no mutual CHAP secret ($ISCSI_MPIO_MUTUAL_SECRET)`, 'ENOSECRET');
      out.mutual = { user: chap.mutual.user, secret: mutual };
    }
    return out;
  }

  private async bringUp(record: NodeRecord): Promise<void> {
    const device = await this.initiator.connect(this.connectRequest(record));
    try {
      const history = new Map<number, PathHistory>();
      device.on('path-failed', ({ path, error }) => {
        history.set(path.id, { lastError: error.message, lastErrorAt: new Date().toISOString() });
        this.log(`${record.name}: path ${path.id} failed: ${error.message}`);
      });
      device.on('path-reinstated', ({ path }) => this.log(`${record.name}: path ${path.id} reinstated`));
      for (const p of device.paths) {
        if (p.failed) {
          history.set(p.id, { lastError: p.lastError?.message ?? 'down', lastErrorAt: new Date().toISOString() });
          this.log(`${record.name}: path ${p.id} is down: ${p.lastError?.message ?? 'not logged in'}; retrying in the background`);
        }
      }
      const exp = await deviceExport(device, { name: record.name, description: device.id, onError: (e) => this.log(`${record.name}: I/O error: ${e.message}`) });
      const nbd = await new NbdServer([exp], { onProtocolError: (e) => this.log(`${record.name}: nbd: ${e.message}`) }).listen({ socket: nbdSocketPath(this.options.dirs, record.name) });
      this.tcp?.addExport(exp);
      await this.metrics.add(record.name, device);
      if (this.stopping) throw new ServiceError('the service is stopping', 'ESHUTDOWN');
      this.running.set(record.name, { record, device, nbd, history });
      this.down.delete(record.name);
      this.log(`${record.name}: logged in on ${device.paths.filter((p) => !p.failed).length} of ${device.paths.length} paths, exported at ${nbd.uri(record.name)}`);
    } catch (error) {
      this.tcp?.removeExport(record.name);
      this.metrics.remove(record.name);
      await device.close();
      throw error;
    }
  }

  private async handle(r: ControlRequest): Promise<unknown> {
    switch (r.command) {
      case 'status': return this.status();
      case 'login': return this.login(String(r.name));
      case 'logout': await this.logout(String(r.name)); return { name: r.name, state: 'stopped' };
      case 'policy': return this.setPolicy(String(r.name), r.policy as PolicyName);
      case 'reload': await this.reload(); return this.status();
      default: throw new ServiceError(`unknown control command ${JSON.stringify(r.command)}`, 'EPROTO');
    }
  }

  private serveMetrics(where: { host: string; port: number }): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') { res.writeHead(404).end('not found: try /metrics\n'); return; }
      this.metrics.text().then((text) => {
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text);
      }, (error: Error) => { res.writeHead(500).end(`${error.message}\n`); });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(where.port, where.host, () => { server.off('error', reject); resolve(server); });
    });
  }
}
