// Runs a command's work on a connected device, then logs every path out. A logout the target never answered does
// not undo work that was done (exit 0 still), but it is said in one line: the target may keep the session around.
import type { MultipathDevice } from '../mpio/multipath-device';
import { warn } from './output';

export async function withDevice<T>(device: MultipathDevice, work: (device: MultipathDevice) => Promise<T>): Promise<T> {
  const unanswered: Error[] = [];
  const listener = (error: Error & { code?: string }) => { if (error.code === 'ELOGOUTUNANSWERED') unanswered.push(error); };
  for (const p of device.paths) p.session.on('warning', listener);
  let result: T;
  try {
    result = await work(device);
  } finally {
    await device.close();
    for (const p of device.paths) p.session.off('warning', listener);
  }
  // Only after the work succeeded: when it failed, its error is the one line the user needs.
  if (unanswered.length > 0) {
    warn(`${unanswered[0].message}${unanswered.length > 1 ? ` (and on ${unanswered.length - 1} more paths)` : ''}; the data are complete, the session was closed anyway`);
  }
  return result;
}
