// Per-host ISID claims: no two live sessions of this host share <InitiatorName, ISID, TargetName>, whichever
// process or device opened them, while each path still gets the same ISID on every reconnect and, when nothing
// else holds it, after a restart.
//
// How it is guaranteed: a claim is a listening Unix socket in Linux's abstract namespace, named after a hash of
// (initiator name, target name, ISID). bind() is atomic and exclusive across every process of the host (and
// within this one), so of two claimants exactly one succeeds; the kernel drops the name when the socket closes
// or its process dies, however it dies, so there are no stale claims to reclaim and no lock files to leak. A
// path claims deriveIsid(key, 0), and, when another live session holds that, deriveIsid(key, 1), ... in order, so
// the first claimant of a path always gets the same ISID. The claim is held for the session's whole life (its
// reconnects reuse the ISID, so the target reinstates and clears the dead connection's tasks: the failover fence
// relies on that) and released when it closes.
//
// Limits: the abstract namespace belongs to the network namespace, so processes in different network namespaces
// do not see each other's claims (give them different initiator names). Off Linux there is no abstract namespace
// and claims only keep the sessions of this process apart.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { deriveIsid, formatIsid, type IsidPathKey } from './isid';

/** How many qualifiers a path tries before giving up: more concurrent sessions of one path than anyone runs. */
const MAX_QUALIFIERS = 256;

export class IsidExhaustedError extends Error {
  constructor(target: string) {
    super(`no free ISID for ${target}: ${MAX_QUALIFIERS} sessions of this path are already open on this host`);
    this.name = 'IsidExhaustedError';
  }
}

/** An ISID held by this process until release(). */
export interface IsidClaim {
  isid: Buffer;
  /** Which qualifier of the path won (0 unless another session held the path's first ISID). */
  qualifier: number;
  release(): void;
}

const inProcess = new Set<string>();

function claimName(key: IsidPathKey, isid: Buffer): string {
  const hash = createHash('sha256').update(JSON.stringify([key.initiatorName, key.targetName ?? '', formatIsid(isid)])).digest('hex');
  return `iscsi-mpio/isid/${hash.slice(0, 40)}`;
}

/** Binds the abstract socket `name`: the server if the name is ours now, undefined if a live socket holds it. */
function bindExclusive(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined); else reject(error);
    });
    server.listen({ path: `\0${name}`, exclusive: true }, () => {
      server.unref(); // a claim alone must not keep the process alive
      resolve(server);
    });
  });
}

/** Claims the first ISID of `key`'s sequence that no live session on this host holds. */
export async function claimIsid(key: IsidPathKey): Promise<IsidClaim> {
  for (let qualifier = 0; qualifier < MAX_QUALIFIERS; qualifier++) {
    const isid = deriveIsid(key, qualifier);
    const name = claimName(key, isid);
    if (inProcess.has(name)) continue;
    let server: net.Server | undefined;
    if (process.platform === 'linux') {
      server = await bindExclusive(name);
      if (!server) continue;
    }
    inProcess.add(name);
    let held = true;
    return {
      isid, qualifier, release: () => {
        if (!held) return;
        held = false;
        inProcess.delete(name);
        server?.close();
      },
    };
  }
  throw new IsidExhaustedError(key.targetName ?? '(discovery)');
}
