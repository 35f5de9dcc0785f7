/**
 * The head process: control plane of a cluster. Serves the Head gRPC service (sessions, code
 * bundles, control calls, job logs) and an HTTP endpoint for metrics; every call needs the token.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, existsSync, readFileSync, rmSync, statSync, watch, writeSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Autoscaler, createNodeProvider, type AutoscalerOptions } from './autoscaler.js';
import { BundleCache } from '../wire/code-shipping.js';
import { HEARTBEAT_INTERVAL_MS, MAX_BUNDLE_BYTES, MAX_BUNDLE_UPLOADS_PER_CALLER, NODE_DEATH_TIMEOUT_MS, PROTOCOL_VERSION } from '../constants.js';
import { errorToWire, HeadStoreError, InvalidControlRequestError, InvalidOptionError, VersionMismatchError } from '../errors.js';
import { ControlDispatcher, type ControlHandlers } from '../wire/control.js';
import type { Bundle } from '../wire/generated/shoal/v1/Bundle.js';
import type { BundleChunk__Output } from '../wire/generated/shoal/v1/BundleChunk.js';
import type { BundleRef__Output } from '../wire/generated/shoal/v1/BundleRef.js';
import type { ControlRequest__Output } from '../wire/generated/shoal/v1/ControlRequest.js';
import type { Frame } from '../wire/generated/shoal/v1/Frame.js';
import type { LogRequest__Output } from '../wire/generated/shoal/v1/LogRequest.js';
import type { LogChunk } from '../wire/generated/shoal/v1/LogChunk.js';
import { HeadState, type SessionHandle } from './head-state.js';
import { HeadEvents } from './head-events.js';
import { PublishGate } from './published.js';
import { loadHeadExtensions, type HeadHttpHandler, type HeadStatus } from './head-extension.js';
import { headHost, type HeadHostParts } from './head-host.js';
import type { HeadStore, JobRecord, StoredRecords } from './head-store.js';
import { openHeadStore } from './open-head-store.js';
import { newId } from '../ids.js';
import { JobManager } from './job-manager.js';
import { log } from '../log.js';
import type { Registry } from 'prom-client';
import { createMetrics } from './metrics.js';
import { bindServer } from '../wire/object-transfer.js';
import { SHOAL_VERSION } from '../paths.js';
import { makePrivateDir, openPrivateFile, PRIVATE_FILE_MODE, writePrivateFile } from '../private-files.js';
import type { ClientMsg, HeadMsg, HelloMsg } from '../wire/protocol.js';
import { packMessage, unpackMessage } from '../wire/serialization.js';
import { checkToken, loadProto, serverOptions, SessionChannel, unauthenticated, type TlsOptions } from '../wire/transport.js';

/** Process logs `shoal logs` can read besides jobs. */
const PROCESS_LOG = /^(head|worker-\d+)$/;

export interface HeadOptions {
  /** Interface to bind. @default '127.0.0.1' */
  host?: string;
  /** gRPC port; 0 picks a free one. @default 6380 */
  port?: number;
  /** HTTP port for /metrics; 0 picks a free one, -1 disables. @default 0 */
  metricsPort?: number;
  /** Folder for the head's state (token, bundles, store, job logs). */
  dir: string;
  /** Use this token instead of generating one. */
  token?: string;
  tls?: TlsOptions;
  /** Declare a node dead after this much silence. @default 10000 */
  nodeTimeoutMs?: number;
  /** Launch and remove workers with demand (local processes, or the hosts of a cluster YAML). @default off */
  autoscaler?: AutoscalerOptions;
  /**
   * Where the head keeps its durable state (cluster token, sessions, nodes, actors, placement
   * groups, jobs): a SQLite file path, or `postgres://user@host:port/db?schema=name`. A head started
   * again with the same store and port takes the cluster back. @default `<dir>/head.sqlite`
   */
  store?: string;
  /** After a restart, wait this long for the previous head's workers and drivers to come back. @default 30000 */
  recoveryGraceMs?: number;
  /**
   * Modules (absolute paths or package specifiers) the head imports at start and mounts on its HTTP
   * server through their `mountHead(host)` (head-extension.ts): how the dashboard is served. @default []
   */
  extensions?: string[];
}

/** How long a restarted head waits for the previous head's sessions before declaring them gone. */
export const RECOVERY_GRACE_MS = 30_000;

/**
 * The cluster's identity, kept in the store. The store holds a hash of the token, never the token:
 * whoever can read the store (a file, a database) must not get a key that runs code on the cluster.
 * `token` is only read, from stores written before the hash.
 */
interface ClusterMeta { clusterId: string; tokenSha256?: string; token?: string; createdAt: number }

/** The hash of a token the store keeps. */
export const tokenHash = (token: string): string => createHash('sha256').update(`shoal-cluster-token\0${token}`).digest('hex');

export interface HeadInfo {
  address: string;
  port: number;
  metricsPort: number;
  tokenFile: string;
  dir: string;
  /** The store the head keeps its state in. */
  store: string;
  clusterId: string;
  /** Base URL of the head's HTTP server (metrics, extensions such as the dashboard); absent when it is off. */
  httpUrl?: string | undefined;
  /** What extensions serve on the HTTP server, by name (`dashboard`) → URL. */
  httpMounts?: Record<string, string> | undefined;
}

/** Reads the token in `dir/token`, or makes one (file 0600, folder 0700, whatever the umask). */
export function ensureToken(dir: string, token?: string): { token: string; tokenFile: string } {
  makePrivateDir(dir, true);
  const tokenFile = join(dir, 'token');
  if (token) writePrivateFile(tokenFile, token);
  else if (existsSync(tokenFile)) {
    chmodSync(tokenFile, PRIVATE_FILE_MODE);
    token = readFileSync(tokenFile, 'utf8').trim();
  } else {
    token = randomBytes(24).toString('base64url');
    writePrivateFile(tokenFile, token);
  }
  return { token, tokenFile };
}

/**
 * The token of a head starting over `meta` (undefined: a new cluster): the one given, else the token
 * file in its folder, else (a store written before tokens were hashed) the stored token. A store
 * that holds only a hash and no token file beside it cannot give the token back: refused.
 */
function headToken(dir: string, store: string, meta: ClusterMeta | undefined, given: string | undefined): string | undefined {
  if (given) return given;
  if (existsSync(join(dir, 'token')) || !meta) return undefined;
  if (meta.token) return meta.token;
  throw new HeadStoreError(
    store,
    `it holds cluster ${meta.clusterId}, whose token it keeps only as a hash, and ${join(dir, 'token')} is missing: ` +
      "copy the cluster's token file there (the clients hold the same token) or start a new cluster with another store",
  );
}

export class Head {
  readonly state = new HeadState();
  private server!: grpc.Server;
  private http?: HttpServer;
  private token = '';
  private store!: HeadStore;
  private jobs!: JobManager;
  private bundles!: BundleCache;
  private healthTimer?: NodeJS.Timeout;
  private autoscaler?: Autoscaler;
  private readonly events = new HeadEvents();
  private readonly publishGate = new PublishGate();
  /** What the store held at start (history records for extensions). */
  private history: StoredRecords = new Map();
  /** HTTP routes mounted by extensions, by path prefix. */
  private readonly mounts = new Map<string, HeadHttpHandler>();
  /** Metrics registries of extensions, served after the head's own on /metrics. */
  private readonly extensionMetrics: Registry[] = [];
  /** Bundle uploads in progress, by caller host. */
  private readonly uploads = new Map<string, number>();
  private readonly control = new ControlDispatcher(this.controlHandlers());
  info!: HeadInfo;

  constructor(private readonly options: HeadOptions) {}

  async start(): Promise<HeadInfo> {
    const o = this.options;
    const host = o.host ?? '127.0.0.1';
    makePrivateDir(o.dir, true);
    this.store = await openHeadStore(o.store ?? join(o.dir, 'head.sqlite'));
    const records = await this.store.open();
    const meta = records.get('meta')?.get('cluster') as ClusterMeta | undefined;
    // The cluster keeps its token across restarts (clients hold it), unless one is given.
    const { token, tokenFile } = ensureToken(o.dir, headToken(o.dir, this.store.description, meta, o.token));
    if (meta?.tokenSha256 && meta.tokenSha256 !== tokenHash(token)) {
      log.warn({ clusterId: meta.clusterId, tokenFile }, 'the cluster token differs from the one the store was made with; clients need the new one');
    }
    this.token = token;
    const cluster: ClusterMeta = { clusterId: meta?.clusterId ?? newId('c'), tokenSha256: tokenHash(token), createdAt: meta?.createdAt ?? Date.now() };
    this.store.put('meta', 'cluster', cluster);
    this.server = new grpc.Server(serverOptions(token));
    this.bundles = new BundleCache(join(o.dir, 'bundles'));
    const missing = [...(records.get('bundle')?.keys() ?? [])].filter((h) => !this.bundles.has(h));
    if (missing.length) log.warn({ missing: missing.length }, 'code bundles of the previous head are not in its folder; drivers upload theirs again when they reconnect');
    this.state.onEvent = (event, fields) => {
      log.info({ event, ...fields }, event);
      this.events.emit(event, fields);
    };
    const restored = this.state.restore(records, o.recoveryGraceMs ?? RECOVERY_GRACE_MS);
    this.state.persist = this.store;
    this.events.restore(records.get('history-event'), this.store);
    this.history = records;
    if (meta) log.info({ store: this.store.description, clusterId: cluster.clusterId, ...restored }, 'head state restored from its store');

    const proto = loadProto();
    this.server.addService(proto.shoal.v1.Head.service, {
      Session: (call: grpc.ServerDuplexStream<Frame, Frame>) => this.onSession(call),
      HasBundle: (call: grpc.ServerUnaryCall<BundleRef__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (!this.authed(call, 'HasBundle', cb)) return;
        cb(null, { present: this.bundles.has(call.request.hash) });
      },
      PutBundle: (call: grpc.ServerUnaryCall<Bundle, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (!this.authed(call, 'PutBundle', cb)) return;
        const { hash, code } = call.request;
        const bytes = code as Uint8Array;
        const actual = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
        if (!hash || actual !== hash) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: `bundle content does not match its hash ${hash}` });
          return;
        }
        this.bundles.write(hash, bytes);
        this.store.put('bundle', hash, { hash, at: Date.now() });
        cb(null, { present: true });
      },
      PutBundleChunks: (call: grpc.ServerReadableStream<BundleChunk__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (!this.authed(call, 'PutBundleChunks', cb)) return;
        this.receiveBundle(call, cb);
      },
      GetBundle: (call: grpc.ServerUnaryCall<BundleRef__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (!this.authed(call, 'GetBundle', cb)) return;
        const hash = call.request.hash;
        if (!/^[0-9a-f]{32}$/.test(hash) || !this.bundles.has(hash)) {
          cb({ code: grpc.status.NOT_FOUND, details: `no bundle ${hash}` });
          return;
        }
        cb(null, { hash, code: readFileSync(this.bundles.pathOf(hash)) });
      },
      Control: (call: grpc.ServerUnaryCall<ControlRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        if (!this.authed(call, `Control.${call.request.method}`, cb)) return;
        const { method, body } = call.request;
        Promise.resolve()
          .then(() => {
            let request: unknown;
            try {
              request = unpackMessage(body);
            } catch (err) {
              throw new InvalidControlRequestError(method, 'body', `not a msgpack value: ${(err as Error).message}`);
            }
            return this.control.dispatch(method, request);
          })
          .then((reply) => cb(null, { body: packMessage(reply ?? null) }))
          .catch((err) => cb({ code: grpc.status.FAILED_PRECONDITION, details: JSON.stringify(errorToWire(err)) }));
      },
      JobLogs: (call: grpc.ServerWritableStream<LogRequest__Output, LogChunk>) => this.onJobLogs(call),
    });
    const port = await bindServer(this.server, `${host}:${o.port ?? 6380}`, o.tls);
    const address = `${host}:${port}`;

    this.jobs = new JobManager(this.store, join(o.dir, 'jobs'), () => ({
      SHOAL_ADDRESS: address,
      SHOAL_TOKEN_FILE: tokenFile,
    }), (records.get('job')?.values() ?? []) as Iterable<JobRecord>, (job) => this.events.emit('job', {
      jobId: job.id, status: job.status, entrypoint: job.entrypoint, exitCode: job.exitCode, message: job.message,
    }));

    let metricsPort = -1;
    if ((o.metricsPort ?? 0) >= 0) metricsPort = await this.startHttp(host, o.metricsPort ?? 0);

    const timeout = o.nodeTimeoutMs ?? NODE_DEATH_TIMEOUT_MS;
    this.healthTimer = setInterval(() => this.state.checkNodeHealth(Date.now(), timeout), HEARTBEAT_INTERVAL_MS);
    this.healthTimer.unref();
    this.info = {
      address, port, metricsPort, tokenFile, dir: o.dir, store: this.store.description, clusterId: cluster.clusterId,
      httpUrl: metricsPort >= 0 ? `http://${host.includes(':') ? `[${host}]` : host}:${metricsPort}` : undefined,
    };
    if (o.extensions?.length) {
      if (metricsPort < 0) throw new InvalidOptionError(`head extensions ${o.extensions.join(', ')} need the head's HTTP server: metricsPort must not be -1`);
      await loadHeadExtensions(o.extensions, headHost(this.hostParts()));
    }
    if (o.autoscaler) {
      const provider = createNodeProvider(o.autoscaler, { address, tokenFile, dir: o.dir, host });
      this.autoscaler = new Autoscaler(this.state, provider, o.autoscaler);
      this.autoscaler.start();
    }
    log.info(this.info, 'head started');
    return this.info;
  }

  /**
   * A bundle upload in chunks, streamed to a 0600 staging file while its hash is computed, so the
   * head holds one chunk at a time: at most MAX_BUNDLE_BYTES per bundle and
   * MAX_BUNDLE_UPLOADS_PER_CALLER uploads at once per caller host.
   */
  private receiveBundle(call: grpc.ServerReadableStream<BundleChunk__Output, unknown>, cb: grpc.sendUnaryData<unknown>): void {
    const peer = call.getPeer();
    const caller = peer.slice(0, peer.lastIndexOf(':'));
    const busy = this.uploads.get(caller) ?? 0;
    if (busy >= MAX_BUNDLE_UPLOADS_PER_CALLER) {
      cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: `${caller} has ${busy} bundle uploads in progress already (at most ${MAX_BUNDLE_UPLOADS_PER_CALLER})` });
      return;
    }
    this.uploads.set(caller, busy + 1);
    let hash = '';
    let size = -1;
    let received = 0;
    let fd: number | undefined;
    let staging = '';
    const digest = createHash('sha256');
    let settled = false;
    const finish = (err: Partial<grpc.StatusObject> | null): void => {
      if (settled) return;
      settled = true;
      const left = (this.uploads.get(caller) ?? 1) - 1;
      if (left > 0) this.uploads.set(caller, left);
      else this.uploads.delete(caller);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      if (err) {
        if (staging) rmSync(staging, { force: true });
        cb(err);
        return;
      }
      this.bundles.adopt(hash, staging);
      this.store.put('bundle', hash, { hash, at: Date.now() });
      cb(null, { present: true });
    };
    const refuse = (code: grpc.status, details: string): void => {
      finish({ code, details });
      call.destroy();
    };
    call.on('data', (chunk: BundleChunk__Output) => {
      if (settled) return;
      if (fd === undefined) {
        hash = chunk.hash;
        size = Number(chunk.size);
        if (!/^[0-9a-f]{32}$/.test(hash)) return refuse(grpc.status.INVALID_ARGUMENT, `bundle hash '${hash}' is not 32 hex digits`);
        if (!Number.isSafeInteger(size) || size < 0) return refuse(grpc.status.INVALID_ARGUMENT, `bundle ${hash}: size ${chunk.size} is not a byte count`);
        if (size > MAX_BUNDLE_BYTES) return refuse(grpc.status.RESOURCE_EXHAUSTED, `bundle ${hash} is ${size} bytes; the head takes bundles up to ${MAX_BUNDLE_BYTES} bytes`);
        staging = this.bundles.stagingPath(hash);
        fd = openPrivateFile(staging, 'wx');
      }
      const data = chunk.data;
      received += data.byteLength;
      if (received > size) return refuse(grpc.status.INVALID_ARGUMENT, `bundle ${hash} sent more than the ${size} bytes it announced`);
      digest.update(data);
      let offset = 0;
      while (offset < data.byteLength) offset += writeSync(fd, data, offset, data.byteLength - offset);
    });
    call.on('end', () => {
      if (settled) return;
      if (fd === undefined) return finish({ code: grpc.status.INVALID_ARGUMENT, details: 'empty bundle upload' });
      if (received !== size) return finish({ code: grpc.status.INVALID_ARGUMENT, details: `bundle ${hash} ended after ${received} of ${size} bytes` });
      const actual = digest.digest('hex').slice(0, 32);
      if (actual !== hash) return finish({ code: grpc.status.INVALID_ARGUMENT, details: `bundle content does not match its hash ${hash}` });
      finish(null);
    });
    call.on('error', () => finish({ code: grpc.status.CANCELLED, details: 'bundle upload cancelled' }));
    call.on('cancelled', () => finish({ code: grpc.status.CANCELLED, details: 'bundle upload cancelled' }));
  }

  private authed(call: { metadata: grpc.Metadata; getPeer(): string }, what: string, cb: grpc.sendUnaryData<unknown>): boolean {
    if (checkToken(call.metadata, this.token)) return true;
    log.warn({ peer: call.getPeer(), call: what }, 'rejected call with a missing or wrong token');
    cb(unauthenticated(what));
    return false;
  }

  private onSession(call: grpc.ServerDuplexStream<Frame, Frame>): void {
    if (!checkToken(call.metadata, this.token)) {
      log.warn({ peer: call.getPeer(), call: 'Session' }, 'rejected session with a missing or wrong token');
      call.emit('error', unauthenticated('Session'));
      return;
    }
    let session: SessionHandle | undefined;
    const channel: SessionChannel<ClientMsg, HeadMsg> = new SessionChannel<ClientMsg, HeadMsg>(
      call,
      'head',
      (msg) => {
        if (!session) {
          if (msg.t !== 'hello') return;
          session = this.welcome(msg, channel);
          return;
        }
        try {
          this.state.handle(msg, session);
        } catch (err) {
          log.error({ err, messageType: msg.t }, 'error handling message');
        }
      },
      () => {
        // A session that came back on a new stream is no longer this one.
        if (session && this.state.sessions.get(session.id) === session) {
          log.info({ sessionId: session.id, peerRole: session.role }, 'session closed');
          this.state.sessionClosed(session.id);
        }
      },
    );
  }

  private welcome(hello: HelloMsg, channel: SessionChannel<ClientMsg, HeadMsg>): SessionHandle | undefined {
    if (hello.version !== SHOAL_VERSION || hello.protocol !== PROTOCOL_VERSION) {
      const err = new VersionMismatchError(`${hello.version} (protocol ${hello.protocol})`, `${SHOAL_VERSION} (protocol ${PROTOCOL_VERSION})`);
      log.warn({ version: hello.version, peerPid: hello.pid, host: hello.hostname }, 'refused a process of another shoal version');
      channel.send({ t: 'refused', error: err.toWire() });
      channel.end();
      return undefined;
    }
    // A process that lost its session (the head restarted) comes back under the same id.
    const resume = hello.resume;
    const id = resume?.sessionId && /^s[\w-]{1,64}$/.test(resume.sessionId) ? resume.sessionId : newId('s');
    // Its old stream may not have closed here yet: that session ends first (its work is let go).
    if (resume && this.state.sessions.has(id)) this.state.sessionClosed(id);
    const session: SessionHandle = {
      id,
      role: hello.role,
      jobId: hello.jobId ?? newId('j'),
      nodeId: hello.nodeId,
      send: (m) => channel.send(m),
    };
    this.state.addSession(session);
    if (hello.role === 'worker' && hello.nodeId) {
      session.nodeInfo = {
        nodeId: hello.nodeId,
        resources: hello.resources ?? {},
        address: hello.objectAddress ?? '',
        hostname: hello.hostname,
      };
      this.state.addNode(session, session.nodeInfo);
    }
    log.info({ sessionId: id, peerRole: hello.role, peerPid: hello.pid, host: hello.hostname, resumed: !!resume }, 'session opened');
    channel.send({ t: 'welcome', sessionId: id, jobId: session.jobId, nodeId: hello.nodeId, version: SHOAL_VERSION });
    if (resume) this.state.resumeSession(session, resume);
    return session;
  }

  /** The control methods (wire/control.ts), checked against the table's requests and replies. */
  private controlHandlers(): ControlHandlers {
    return {
      ping: () => ({ version: SHOAL_VERSION, address: this.info.address }),
      status: () => this.status(),
      'get-actor': ({ name }) => this.state.getActor(name),
      'pg-create': ({ id, bundles, strategy, sessionId }) => {
        this.state.createPlacementGroup(id, bundles, strategy, sessionId);
        return null;
      },
      'pg-ready': async ({ id }) => {
        await this.state.placementGroupReady(id);
        return null;
      },
      'pg-remove': ({ id }) => {
        this.state.removePlacementGroup(id);
        return null;
      },
      'job-submit': (body) => {
        if (!this.bundles.has(body.bundle)) throw new InvalidOptionError(`job bundle ${body.bundle} was not uploaded`);
        // A job of several files (`modules`: file name -> bundle hash, the entry among them) runs from a folder of its own.
        const scriptPath = body.modules ? this.bundles.materialize(body.modules, body.bundle) : this.bundles.pathOf(body.bundle);
        return this.jobs.submit({ scriptPath, args: body.args ?? [], env: body.env ?? {}, entrypoint: body.entrypoint });
      },
      'job-list': () => this.jobs.list(),
      'job-get': ({ id }) => this.jobs.get(id),
      'job-stop': ({ id }) => this.jobs.stop(id),
      publish: ({ topic, data }) => {
        if (!this.publishGate.admit(topic, data)) return { accepted: false };
        this.events.notify('published', { topic, data });
        return { accepted: true };
      },
    };
  }

  private status(): HeadStatus {
    return {
      ...this.state.status(), jobs: this.jobs.list(),
      head: { ...this.info, version: SHOAL_VERSION, hostname: hostname(), recovering: this.state.recovering },
      autoscaler: this.autoscaler && this.options.autoscaler
        ? { provider: this.autoscaler.provider.name, options: this.options.autoscaler, decisions: this.autoscaler.decisions.slice(-20) }
        : undefined,
    };
  }

  /** What head-host.ts builds the extensions' view from. */
  private hostParts(): HeadHostParts {
    return {
      info: this.info, token: this.token, state: this.state, jobs: this.jobs, events: this.events, store: this.store, stored: this.history,
      status: () => this.status(),
      mount: (prefix, handler, name) => {
        this.mounts.set(prefix, handler);
        this.info.httpMounts = { ...this.info.httpMounts, [name]: `${this.info.httpUrl}${prefix}` };
      },
      addMetrics: (registry) => {
        this.extensionMetrics.push(registry);
      },
    };
  }

  private onJobLogs(call: grpc.ServerWritableStream<LogRequest__Output, LogChunk>): void {
    if (!checkToken(call.metadata, this.token)) {
      log.warn({ peer: call.getPeer(), call: 'JobLogs' }, 'rejected call with a missing or wrong token');
      call.emit('error', unauthenticated('JobLogs'));
      return;
    }
    // A job's output, or a process log of this host's cluster folder (`head`, `worker-0`, ...).
    let file: string;
    let live: () => boolean;
    const processLog = PROCESS_LOG.test(call.request.jobId) && process.env.SHOAL_LOG_FILE
      ? join(dirname(process.env.SHOAL_LOG_FILE), `${call.request.jobId}.log`)
      : undefined;
    if (processLog) {
      if (!existsSync(processLog)) {
        call.emit('error', { code: grpc.status.NOT_FOUND, details: `no log ${call.request.jobId} on the head's host` });
        return;
      }
      file = processLog;
      live = () => true;
    } else {
      let job: JobRecord;
      try {
        job = this.jobs.get(call.request.jobId);
      } catch (err) {
        call.emit('error', { code: grpc.status.NOT_FOUND, details: (err as Error).message });
        return;
      }
      file = job.logFile;
      live = () => this.jobs.isRunning(job.id);
    }
    let offset = Number(call.request.offset) || 0;
    const pump = (then: () => void): void => {
      const size = existsSync(file) ? statSync(file).size : 0;
      if (size <= offset) return then();
      const stream = createReadStream(file, { start: offset, end: size - 1 });
      stream.on('data', (d) => call.write({ data: d as Buffer }));
      stream.on('end', () => {
        offset = size;
        then();
      });
    };
    if (!call.request.follow) {
      pump(() => call.end());
      return;
    }
    let watcher: ReturnType<typeof watch> | undefined;
    let busy = false;
    const tick = (): void => {
      if (busy) return;
      busy = true;
      pump(() => {
        busy = false;
        if (!live()) {
          // Final read after exit, then close.
          pump(() => {
            watcher?.close();
            clearInterval(timer);
            call.end();
          });
        }
      });
    };
    const timer = setInterval(tick, 250);
    try {
      watcher = watch(file, tick);
    } catch {
      /* the interval covers it */
    }
    call.on('cancelled', () => {
      watcher?.close();
      clearInterval(timer);
    });
    tick();
  }

  private async startHttp(host: string, port: number): Promise<number> {
    const registry = createMetrics(this.state);
    this.http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const mounted = path === '/metrics' || path === '/api/status' ? undefined : this.mountFor(path);
      if (mounted) return mounted(req, res);
      const auth = req.headers.authorization ?? '';
      const md = new grpc.Metadata();
      md.set('authorization', auth);
      if (!checkToken(md, this.token)) {
        log.warn({ peer: req.socket.remoteAddress, path: req.url }, 'rejected HTTP request with a missing or wrong token');
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
        res.end('missing or wrong cluster token\n');
        return;
      }
      if (req.url === '/metrics') {
        Promise.all([registry, ...this.extensionMetrics].map((r) => r.metrics())).then((texts) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(texts.join('\n'));
        }, (err) => {
          res.writeHead(500);
          res.end(String(err));
        });
        return;
      }
      if (req.url === '/api/status') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...this.state.status(), jobs: this.jobs.list() }));
        return;
      }
      res.writeHead(404);
      res.end('not found\n');
    });
    return new Promise((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(port, host, () => resolve((this.http!.address() as { port: number }).port));
    });
  }

  /** The handler of the longest mounted prefix of `path`. */
  private mountFor(path: string): HeadHttpHandler | undefined {
    let best: string | undefined;
    for (const prefix of this.mounts.keys()) {
      if (path.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
    }
    return best === undefined ? undefined : this.mounts.get(best);
  }

  async stop(): Promise<void> {
    // Sessions closing now must not erase the stored state: a head started again takes it back.
    this.state.persist = undefined;
    this.events.detach();
    clearInterval(this.healthTimer);
    await this.autoscaler?.stop();
    this.jobs?.stopAll();
    this.http?.close();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
    await this.store?.close();
  }
}
