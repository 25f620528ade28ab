// Where the service keeps its state: node records under the config directory ($XDG_CONFIG_HOME/iscsi-mpio, or
// ~/.config/iscsi-mpio, or --config DIR), sockets under the runtime directory ($XDG_RUNTIME_DIR/iscsi-mpio for the
// default config, else DIR/run, so two services with their own --config never share a socket). Both mode 0700.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'iscsi-mpio');
}

export interface ServiceDirs { config: string; runtime: string }

export function serviceDirs(configFlag?: string, env: NodeJS.ProcessEnv = process.env): ServiceDirs {
  if (configFlag) {
    const config = path.resolve(configFlag);
    return { config, runtime: path.join(config, 'run') };
  }
  const config = defaultConfigDir(env);
  return { config, runtime: env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'iscsi-mpio') : path.join(config, 'run') };
}

/** Creates `dir` (and its parents) and makes it 0700: what it holds is the user's alone. */
export function privateDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  return dir;
}

export const controlSocketPath = (dirs: ServiceDirs): string => path.join(dirs.runtime, 'control.sock');
export const nbdSocketPath = (dirs: ServiceDirs, node: string): string => path.join(dirs.runtime, `${node}.nbd`);
