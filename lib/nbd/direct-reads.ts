// Reading a client's socket straight into our own buffers (net.Socket's `onread` option): the kernel copies a
// write's payload into the buffer the device will send from, with no stream chunk in between and no JavaScript
// copy. Node offers `onread` only for sockets it creates, not for accepted ones, so the accepted connection's
// handle (taken while paused, pauseOnConnect) is moved into a new net.Socket made with `onread`. Node's own
// `_handle` property is the one internal this relies on (lib/wire/native-socket.ts takes the fd the same way); where
// it is missing, adopt() returns undefined and the connection reads through the stream as usual.
import net from 'node:net';

export interface DirectReader {
  /** Where the next read goes (called before each read). */
  nextBuffer(): Buffer;
  /** `n` bytes arrived at the start of `buffer`, the one nextBuffer() gave; false pauses reading. */
  onRead(n: number, buffer: Buffer): boolean | void;
}

/** A socket reading through `reader`, made from the paused accepted `accepted`; undefined if Node does not allow it. */
export function adopt(accepted: net.Socket, reader: () => DirectReader | undefined, fallbackSize: number): net.Socket | undefined {
  const internals = accepted as unknown as { _handle?: object | null };
  const handle = internals._handle;
  if (!handle) return undefined;
  internals._handle = null;
  accepted.destroy(); // only the wrapper: its handle now belongs to the new socket
  return new net.Socket({
    handle, readable: true, writable: true,
    onread: {
      buffer: () => reader()?.nextBuffer() ?? Buffer.allocUnsafe(fallbackSize),
      callback: (n: number, buffer: Uint8Array) => reader()?.onRead(n, buffer as Buffer) !== false,
    },
  } as net.SocketConstructorOpts & { handle: object });
}
