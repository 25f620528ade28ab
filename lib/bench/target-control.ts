// The embedded target's controls (member down/up, async logout requests, drops) for benches and the soak, with the
// target in a child process (target-agent.ts), inside a network namespace or not: the parent's RSS and fds stay
// its own, and a target in a namespace can only run there.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { PortalInfo, SessionFilter, TargetOptions } from '../target/target';
import { packageRoot } from '../package-root';
import type { AgentCommand } from './target-agent';

export interface TargetControl {
  iqn: string;
  portals: PortalInfo[];
  memberDown(member: number): Promise<void>;
  memberUp(member: number): Promise<void>;
  /** How many sessions were asked to log out. */
  requestLogout(filter?: SessionFilter & { time2Wait?: number; within?: number }): Promise<number>;
  dropConnections(filter?: SessionFilter): Promise<number>;
  stop(): Promise<void>;
}

export class TargetAgentError extends Error {
  readonly code = 'ETARGETAGENT';
}

/** An agent command without its id (distributed over the union). */
type Command = AgentCommand extends infer C ? C extends AgentCommand ? Omit<C, 'id'> : never : never;

type Spawner = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

/** Starts the target as a child through `spawn` (e.g. ShapedPaths.spawnInside) and drives it over stdin/stdout. */
export async function startTargetAgent(options: TargetOptions, spawn: Spawner, startMs = 20_000): Promise<TargetControl> {
  const ext = path.extname(__filename);
  const loader = ext === '.ts' ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, path.join(__dirname, `target-agent${ext}`), JSON.stringify(options)],
    { cwd: packageRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const lines = readline.createInterface({ input: child.stdout! });
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    for (const p of pending.values()) p.reject(new TargetAgentError(`the target agent exited: ${stderr.trim()}`));
    pending.clear();
    resolve();
  }));

  const summary = await new Promise<{ iqn: string; portals: PortalInfo[] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TargetAgentError(`the target agent did not start within ${startMs} ms: ${stderr.trim()}`)), startMs);
    void exited.then(() => { clearTimeout(timer); reject(new TargetAgentError(`the target agent exited at start: ${stderr.trim()}`)); });
    lines.once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
  }).catch((error) => { child.kill('SIGKILL'); throw error; });

  lines.on('line', (line) => {
    const reply = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: string };
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) p?.resolve(reply.value); else p?.reject(new TargetAgentError(reply.error ?? 'failed'));
  });
  const call = <T>(command: Command): Promise<T> => new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return reject(new TargetAgentError('the target agent is not running'));
    const id = nextId++;
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    child.stdin!.write(JSON.stringify({ ...command, id }) + '\n');
  });

  return {
    iqn: summary.iqn, portals: summary.portals,
    memberDown: (member) => call({ op: 'memberDown', member }),
    memberUp: (member) => call({ op: 'memberUp', member }),
    requestLogout: (filter = {}) => call({ op: 'requestLogout', filter }),
    dropConnections: (filter = {}) => call({ op: 'dropConnections', filter }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
