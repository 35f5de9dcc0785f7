/**
 * `COPY … TO STDOUT` as a readable stream of the COPY data bytes, for pg's `client.query(...)`.
 * Like pg-copy-streams' `to`, it takes the connection's socket over while the COPY runs and hands it
 * back to pg at CopyDone (or at an ErrorResponse, which pg then reports). Unlike it, it does not
 * make a Buffer per CopyData message (the server sends one per row, so that was a million
 * allocations per million rows): the payloads of each socket read are copied into one contiguous
 * * chunk (in place), dropping the 5-byte message headers.
 */
import { Readable } from 'node:stream';
import type { Connection, Submittable } from 'pg';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const NOTICE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION = 0x41; // 'A'

export class CopyOutStream extends Readable implements Submittable {
  private connection: Connection | undefined;
  private pgDataHandler: ((chunk: Buffer) => void) | undefined;
  private readonly onReadable = (): void => this.forward();
  private wanted = false;
  private forwarding = false;
  private detached = false;
  private ended = false;
  /** An incomplete message header carried over to the next socket read. */
  private carry: Uint8Array | null = null;
  /** Code and unread body bytes of the message being read. */
  private code = 0;
  private remaining = 0;

  constructor(private readonly text: string) {
    super();
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: Connection): void {
    this.connection = connection;
    const socket = connection.stream;
    const handlers = socket.listeners('data');
    if (handlers.length !== 1) throw new Error(`COPY TO: expected one data listener on pg's socket, found ${handlers.length}`);
    this.pgDataHandler = handlers[0] as (chunk: Buffer) => void;
    socket.removeListener('data', this.pgDataHandler);
    socket.pause();
    socket.on('readable', this.onReadable);
    connection.query(this.text);
  }

  override _read(): void {
    this.wanted = true;
    this.forward();
  }

  /** pg reports an ErrorResponse (after the socket was handed back). */
  handleError(err: Error): void {
    this.destroy(err);
  }

  handleCommandComplete(): void {}

  /** The query is over; without a CopyDone or an error before it, the stream ends here. */
  handleReadyForQuery(): void {
    if (!this.destroyed) this.end();
  }

  private forward(): void {
    if (this.forwarding || !this.wanted || this.detached || this.connection === undefined) return;
    this.forwarding = true;
    const socket = this.connection.stream;
    let chunk: Buffer | null;
    while (this.wanted && !this.detached && (chunk = socket.read() as Buffer | null) !== null) this.wanted = this.parse(chunk);
    this.forwarding = false;
  }

  /** Strips message framing from one socket read; returns whether more data is wanted. */
  private parse(input: Uint8Array): boolean {
    let buf = new Uint8Array(input.buffer, input.byteOffset, input.length);
    if (this.carry !== null) {
      const joined = new Uint8Array(this.carry.length + input.length);
      joined.set(this.carry);
      joined.set(buf, this.carry.length);
      buf = joined;
      this.carry = null;
    }
    const n = buf.length;
    // Payloads are moved down over the consumed headers, in place: the socket's buffer is ours.
    let o = 0;
    let i = 0;
    let code = this.code;
    let remaining = this.remaining;
    while (i < n) {
      if (remaining > 0) {
        const k = remaining < n - i ? remaining : n - i;
        if (code === COPY_DATA) {
          if (o !== i) buf.copyWithin(o, i, i + k);
          o += k;
        }
        i += k;
        remaining -= k;
        continue;
      }
      code = buf[i]!;
      if (code === ERROR_RESPONSE || (code !== COPY_DATA && code !== COPY_OUT_RESPONSE && code !== NOTICE && code !== PARAMETER_STATUS && code !== NOTIFICATION && code !== COPY_DONE)) {
        // pg parses the rest and reports the error to this query (handleError), then ends it.
        return this.detach(buf.subarray(0, o), buf.subarray(i), false);
      }
      if (n - i < 5) {
        this.carry = buf.slice(i);
        break;
      }
      remaining = ((buf[i + 1]! << 24) | (buf[i + 2]! << 16) | (buf[i + 3]! << 8) | buf[i + 4]!) - 4;
      i += 5;
      if (code === COPY_DONE && remaining === 0) return this.detach(buf.subarray(0, o), buf.subarray(i), true);
    }
    this.code = code;
    this.remaining = remaining;
    return o === 0 ? true : this.push(buf.subarray(0, o));
  }

  /** Hands the socket back to pg with the bytes after the COPY data; at CopyDone the stream ends. */
  private detach(data: Uint8Array, rest: Uint8Array, done: boolean): boolean {
    if (data.length > 0) this.push(data);
    this.detached = true;
    const socket = this.connection!.stream;
    socket.removeListener('readable', this.onReadable);
    socket.on('data', this.pgDataHandler!);
    this.pgDataHandler!(Buffer.from(rest.buffer, rest.byteOffset, rest.length));
    // The data listener may have paused the socket while handling `rest`: resume on the next tick.
    process.nextTick(() => socket.resume());
    if (done) this.end();
    return false;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.push(null);
  }
}

/** A `COPY … TO STDOUT` statement as a stream of its data bytes: `client.query(copyOut(sql))`. */
export function copyOut(text: string): CopyOutStream {
  return new CopyOutStream(text);
}
