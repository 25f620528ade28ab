// The child process behind remote-target.ts: the embedded target started from the JSON options in argv[2] (inside
// a network namespace when spawned there), its summary printed as one JSON line, then one JSON command per stdin
// line answered by one JSON line on stdout. Stdin closing stops the target and ends the process.
import readline from 'node:readline';
import { Target, type SessionFilter, type TargetOptions } from '../target/target';

export type AgentCommand =
  | { id: number; op: 'memberDown' | 'memberUp'; member: number }
  | { id: number; op: 'requestLogout'; filter: SessionFilter & { time2Wait?: number; within?: number } }
  | { id: number; op: 'dropConnections'; filter: SessionFilter }
  | { id: number; op: 'sessions' };

async function main(): Promise<void> {
  const target = await Target.start(JSON.parse(process.argv[2]) as TargetOptions);
  target.on('warning', () => undefined); // a connection the chaos dropped; the parent sees the effects
  process.stdout.write(JSON.stringify({ iqn: target.iqn, portals: target.portals, luns: target.luns }) + '\n');
  const run = async (c: AgentCommand): Promise<unknown> => {
    switch (c.op) {
      case 'memberDown': return target.memberDown(c.member);
      case 'memberUp': return target.memberUp(c.member);
      case 'requestLogout': return target.requestLogout(c.filter);
      case 'dropConnections': return target.dropConnections(c.filter);
      case 'sessions': return target.sessions();
    }
  };
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = JSON.parse(line) as AgentCommand;
    run(command).then(
      (value) => process.stdout.write(JSON.stringify({ id: command.id, ok: true, value: value ?? null }) + '\n'),
      (error: Error) => process.stdout.write(JSON.stringify({ id: command.id, ok: false, error: error.message }) + '\n'),
    );
  });
  await new Promise((resolve) => lines.once('close', resolve));
  await target.stop();
}

main().catch((error) => {
  process.stderr.write(`target agent: ${(error as Error).stack}\n`);
  process.exit(1);
});
