// device.serveNbd(): one device, one export (named `name`, also the default export), on one listener.
import type { MultipathDevice } from '../mpio/multipath-device';
import { deviceExport } from './device-export';
import { NbdServer, type NbdListen } from './server';

export async function serveDeviceNbd(device: MultipathDevice, where: NbdListen, options: { name?: string; onError?: (e: Error) => void } = {}): Promise<NbdServer> {
  const name = options.name ?? device.id ?? 'lu';
  const exp = await deviceExport(device, { name, onError: options.onError });
  return new NbdServer([exp]).listen(where);
}
