/**
 * Peer-to-peer object transfer: every process with an object store serves its objects in chunks
 * over the ObjectTransfer service, so bulk data never passes through the head and no message
 * size cap applies.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { OBJECT_CHUNK_BYTES } from '../constants.js';
import { ObjectLostError } from '../errors.js';
import type { ObjectTransferClient } from './generated/shoal/v1/ObjectTransfer.js';
import type { FetchRequest__Output } from "./generated/shoal/v1/FetchRequest.js";
import type { ObjectChunk, ObjectChunk__Output } from "./generated/shoal/v1/ObjectChunk.js";
import type { Frame, Frame__Output } from './generated/shoal/v1/Frame.js';
import type { ObjectStore } from '../worker/object-store.js';
import type { ReadyMsg } from './protocol.js';
import { unpackMessage } from './serialization.js';
import {
  channelCredentials, channelOptions, checkToken, loadProto, packFrames, serverCredentials, tokenMetadata,
  unauthenticated, type TlsOptions,
} from './transport.js';
import { trace } from '../trace.js';
import { log } from '../log.js';
import { readHandOver, SHM_DIR, writeHandOver } from './shm-handover.js';

/** Objects at least this large use the shared-memory hand-over between processes of one host. */
const SHM_MIN_BYTES = 1024 * 1024;

function readOr(path: string, read: (p: string) => string): string {
  try {
    return read(path).trim();
  } catch {
    return '';
  }
}

/**
 * This process's host identity: machine, boot and network namespace. Processes in different
 * network namespaces (the test "hosts") never share memory this way, so their traffic really
 * crosses the network. SHOAL_SHM_TRANSFER=0 turns the path off.
 */
export const HOST_ID =
  process.env.SHOAL_SHM_TRANSFER === '0' || !existsSync(SHM_DIR)
    ? ''
    : createHash('sha256')
        .update(hostname())
        .update(readOr('/proc/sys/kernel/random/boot_id', (p) => readFileSync(p, 'utf8')))
        .update(readOr('/proc/self/ns/net', readlinkSync))
        .digest('hex')
        .slice(0, 16);

export function addObjectTransferService(
  server: grpc.Server,
  store: ObjectStore,
  token: string,
  onDeliver?: (msgs: ReadyMsg[]) => void,
): void {
  const proto = loadProto();
  server.addService(proto.shoal.v1.ObjectTransfer.service, {
    Deliver(call: grpc.ServerReadableStream<Frame__Output, Frame>, callback: grpc.sendUnaryData<Frame>) {
      if (!checkToken(call.metadata, token)) {
        log.warn({ peer: call.getPeer() }, 'rejected unauthenticated result delivery');
        callback(unauthenticated('ObjectTransfer.Deliver'));
        return;
      }
      if (!onDeliver) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: 'this process takes no deliveries' });
        return;
      }
      call.on('data', (frame: Frame__Output) => onDeliver(unpackMessage<ReadyMsg[]>(frame.payload)));
      call.on('end', () => callback(null, { payload: new Uint8Array(0) }));
      call.on('error', () => undefined);
    },
    Fetch(call: grpc.ServerWritableStream<FetchRequest__Output, ObjectChunk>) {
      if (!checkToken(call.metadata, token)) {
        log.warn({ peer: call.getPeer() }, 'rejected unauthenticated object fetch');
        call.emit('error', unauthenticated('ObjectTransfer.Fetch'));
        return;
      }
      const id = call.request.objectId;
      const bytes = store.get(id);
      if (!bytes) {
        call.emit('error', { code: grpc.status.NOT_FOUND, details: `object ${id} is not in this store` });
        return;
      }
      trace('objects', () => `serving ${id} (${bytes.byteLength} B) to ${call.getPeer()}`);
      if (HOST_ID && call.request.hostId === HOST_ID && bytes.byteLength >= SHM_MIN_BYTES) {
        // Same host: one write to shared memory and one read beat streaming by an order of magnitude.
        try {
          const path = writeHandOver(bytes, Number(call.request.readerPid) || 0);
          call.write({ size: bytes.byteLength, shmPath: path });
          call.end();
          return;
        } catch (err) {
          trace('objects', () => `shared-memory hand-over failed (${(err as Error).message}); streaming instead`);
        }
      }
      const n = bytes.byteLength;
      let offset = 0;
      const writeMore = (): void => {
        while (offset < n) {
          const end = Math.min(offset + OBJECT_CHUNK_BYTES, n);
          const data = Buffer.from(bytes.buffer, bytes.byteOffset + offset, end - offset);
          const ok = call.write({ size: offset === 0 ? n : 0, data });
          offset = end;
          if (!ok && offset < n) {
            call.once('drain', writeMore);
            return;
          }
        }
        call.end();
      };
      writeMore();
    },
  });
}

export async function bindServer(server: grpc.Server, address: string, tls?: TlsOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, serverCredentials(tls), (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** Fetches objects from peers' stores; one cached channel per address. */
export class ObjectFetcher {
  private readonly clients = new Map<string, ObjectTransferClient>();

  constructor(private readonly token: string, private readonly tls?: TlsOptions) {}

  private client(address: string): ObjectTransferClient {
    let c = this.clients.get(address);
    if (!c) {
      const proto = loadProto();
      c = new proto.shoal.v1.ObjectTransfer(address, channelCredentials(this.tls), channelOptions);
      this.clients.set(address, c);
    }
    return c;
  }

  /** Reads a whole object into a SharedArrayBuffer-backed array. */
  fetch(address: string, id: string): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const call = this.client(address).Fetch({ objectId: id, hostId: HOST_ID, readerPid: process.pid }, tokenMetadata(this.token));
      const started = performance.now();
      let out: Uint8Array | undefined;
      let offset = 0;
      let via: 'shared memory' | 'stream' = 'stream';
      call.on('data', (chunk: ObjectChunk__Output) => {
        if (chunk.shmPath) {
          via = 'shared memory';
          out = readHandOver(chunk.shmPath, Number(chunk.size));
          offset = out.byteLength;
          return;
        }
        if (!out) out = new Uint8Array(new SharedArrayBuffer(Number(chunk.size)));
        out.set(chunk.data, offset);
        offset += chunk.data.byteLength;
      });
      call.on('error', (err: grpc.ServiceError) => {
        reject(new ObjectLostError(id, `fetch from ${address} failed: ${err.details || err.message}`));
      });
      call.on('end', () => {
        if (!out) {
          reject(new ObjectLostError(id, `fetch from ${address} returned no data`));
          return;
        }
        // The bench reads this line to say which path it measured.
        trace('objects', () => `fetched ${id} (${out!.byteLength} B) from ${address} via ${via} in ${(performance.now() - started).toFixed(1)} ms`);
        resolve(out);
      });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/**
 * Sends small task results straight to their owners (drivers), batching per owner: one long-lived
 * client stream each, frames flushed at the end of the turn.
 */
export class ResultDeliverer {
  private readonly streams = new Map<string, { call: grpc.ClientWritableStream<Frame>; queue: ReadyMsg[] }>();
  private readonly clients = new Map<string, ObjectTransferClient>();

  constructor(private readonly token: string, private readonly tls?: TlsOptions) {}

  send(address: string, msg: ReadyMsg): void {
    let s = this.streams.get(address);
    if (!s) {
      let client = this.clients.get(address);
      if (!client) {
        client = new (loadProto().shoal.v1.ObjectTransfer)(address, channelCredentials(this.tls), channelOptions);
        this.clients.set(address, client);
      }
      const call = client.Deliver(tokenMetadata(this.token), () => undefined);
      // A driver that went away: forget the stream (results still reach it through the head).
      call.on('error', () => this.streams.delete(address));
      s = { call, queue: [] };
      this.streams.set(address, s);
    }
    const entry = s;
    entry.queue.push(msg);
    if (entry.queue.length > 1) return;
    queueMicrotask(() => {
      const batch = entry.queue;
      entry.queue = [];
      if (batch.length) for (const payload of packFrames(batch)) entry.call.write({ payload });
    });
  }

  close(): void {
    for (const s of this.streams.values()) s.call.end();
    this.streams.clear();
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
