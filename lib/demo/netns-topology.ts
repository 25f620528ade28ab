// Placeholder until the shaped-veth variant lands.
import type { DemoTopology } from './topology';

export function startNetnsTopology(): Promise<DemoTopology> {
  return Promise.reject(Object.assign(new Error("'demo --netns' is not built yet"), { code: 'ENOTBUILT', exitCode: 2 }));
}
