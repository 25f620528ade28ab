// A multipath device as an NBD export. Reads land in the buffer the NBD reply is sent from; writes go to the LU
// from the buffer the payload was read into. FUA = the write, then SYNCHRONIZE CACHE. WRITE_ZEROES writes zeros
// from one shared zero buffer (the LU does not need WRITE SAME for it). TRIM is offered when the LU takes UNMAP
// (LBPU in VPD 0xB2), and becomes UNMAP of the same blocks.
import type { MultipathDevice } from '../mpio/multipath-device';
import { NO_UNMAP } from '../scsi/unmap';
import { NBD_ERRNO } from './constants';
import type { NbdDone, NbdExport } from './export';

/** The largest request we take: big enough for qemu-img and nbdcopy, small enough to bound memory per request. */
export const MAX_PAYLOAD = 4 * 1024 * 1024;
const ZEROES = Buffer.alloc(1024 * 1024);

/** The NBD errno for an error of the device: ENOSPC past the end, EIO otherwise (what a disk says). */
function errnoOf(error: unknown): number {
  return (error as { code?: unknown }).code === 'ERANGE' ? NBD_ERRNO.ENOSPC : NBD_ERRNO.EIO;
}

export interface DeviceExportOptions {
  name: string;
  description?: string;
  /** Told of each failed request, with the error the device gave (the client only sees an errno). */
  onError?: (error: Error) => void;
}

export async function deviceExport(device: MultipathDevice, options: DeviceExportOptions): Promise<NbdExport> {
  const { blocks, blockSize } = await device.capacity();
  // TRIM is advisory: an LU that lists page 0xB2 and then fails it is served without TRIM rather than not at all.
  const unmap = await device.unmapSupport().catch(() => NO_UNMAP);
  const failed = (done: NbdDone) => (error: Error) => { options.onError?.(error); done(errnoOf(error)); };
  const flush = (done: NbdDone) => device.flush().then(() => done(), failed(done));
  const writeThen = (fua: boolean, done: NbdDone) => () => (fua ? flush(done) : done());
  return {
    name: options.name, description: options.description, size: blocks * blockSize, blockSize,
    maxPayload: MAX_PAYLOAD, multiConn: true,
    read(offset, into, done) {
      device.submitRead(offset / blockSize, into.length / blockSize, into, () => done(), failed(done));
    },
    write(offset, data, fua, done) {
      device.submitWrite(offset / blockSize, data, writeThen(fua, done), failed(done));
    },
    flush,
    writeZeroes(offset, length, fua, done) {
      // In pieces of the shared zero buffer, one after another (a large zeroing must not flood the queue).
      const step = (at: number): void => {
        if (at >= offset + length) { writeThen(fua, done)(); return; }
        const n = Math.min(ZEROES.length, offset + length - at);
        device.submitWrite(at / blockSize, ZEROES.subarray(0, n), () => step(at + n), failed(done));
      };
      step(offset);
    },
    trim: unmap.supported
      ? (offset, length, done) => { device.unmap(offset / blockSize, length / blockSize).then(() => done(), failed(done)); }
      : undefined,
  };
}
