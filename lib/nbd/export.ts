// What an NBD server exports: a named block device with callbacks for each request type. The server checks ranges
// against `size` and alignment against `blockSize` before calling; the export answers with an NBD errno or nothing.
// A device's export (device-export.ts) implements this over a MultipathDevice; tests or apps may give their own.
export type NbdDone = (errno?: number) => void;

export interface NbdExport {
  /** The name clients ask for; the empty name is the server's first export (NBD's default export). */
  readonly name: string;
  readonly description?: string;
  /** Bytes. */
  readonly size: number;
  /** The minimum (and preferred) unit of I/O: requests not aligned to it get EINVAL. */
  readonly blockSize: number;
  /** Largest READ or WRITE payload accepted (EOVERFLOW beyond). */
  readonly maxPayload: number;
  readonly readOnly?: boolean;
  /** Whether several connections see one coherent device, with FLUSH on one covering the writes of all. */
  readonly multiConn?: boolean;
  /** Reads [offset, offset+into.length) into `into`. */
  read(offset: number, into: Buffer, done: NbdDone): void;
  /** Writes `data` at offset; with `fua`, done only once the data are on stable storage. */
  write(offset: number, data: Buffer, fua: boolean, done: NbdDone): void;
  flush?(done: NbdDone): void;
  writeZeroes?(offset: number, length: number, fua: boolean, done: NbdDone): void;
  trim?(offset: number, length: number, done: NbdDone): void;
}
