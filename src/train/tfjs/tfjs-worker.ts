/**
 * The data-parallel worker: a built-in actor class (workers import this compiled module from their
 * own installation, so it only defines; tfjs loads inside `setup()`). Each worker trains one replica
 * on its shard and, every N steps, averages weights and optimizer slots with a ring allreduce over
 * its peers. Chunks go to a peer in the same process over a thread channel (see peer-channel.ts),
 * to one elsewhere with an actor call (`deliver`), and arrive in a mailbox — so the actor runs with
 * maxConcurrency > 1: `deliver` runs while `trainEpoch` awaits.
 */
import { actor, get, type ActorHandle } from '../../core/index.js';
import { writeCheckpoint } from './checkpoint.js';
import { locationHere, PeerChannels, sameProcess, wallClockMs, type ChunkMessage, type WorkerLocation } from './peer-channel.js';
import { butterflyAllreduceMean, Mailbox, ringAllreduceMean } from './ring-allreduce.js';
import type { ReplicaSpec, ReplicaState } from './replica-data.js';
import { Replica } from './tfjs-replica.js';
import type { DenseShard } from './training-data.js';
import type { AllreduceAlgorithm, AllreduceTransport } from './trainer-options.js';

export interface WorkerSpec extends ReplicaSpec {
  worldSize: number;
  syncEveryNSteps: number;
  checkpointEvery: number;
  checkpointDir: string;
  runId: string;
  allreduce: AllreduceAlgorithm;
  transport: AllreduceTransport;
}

/** Buffers up to this size use the butterfly (latency-bound) when the worker count is a power of two, under `allreduce: 'auto'`. */
export const BUTTERFLY_MAX_BYTES = 1 << 20;

/** What one worker reports for one epoch (or the part of it after a resume). */
export interface WorkerEpochReport {
  rank: number;
  fromStep: number;
  /** Global (averaged over workers) loss of each step run, from `fromStep`. */
  losses: number[];
  computeMs: number;
  commMs: number;
  /** Part of commMs spent in the allreduce proper (the rest: reading and writing back the state). */
  ringMs: number;
  /**
   * The allreduce's time blocked on incoming chunks, split in two, summed over chunks: `peerWaitMs`
   * until the sender sent (it was still computing), `deliveryMs` from then until the chunk was here.
   */
  peerWaitMs: number;
  deliveryMs: number;
  /** Chunks the allreduce waited for (deliveryMs / chunks = mean one-way delivery; a chunk already there cost neither). */
  chunks: number;
  syncs: number;
  valLoss: number | undefined;
  globalStep: number;
}

export class TfjsTrainWorker {
  private replica: Replica | undefined;
  private peers: ActorHandle<TfjsTrainWorker>[] = [];
  /** Per rank: reachable over the in-process channel (else by actor call). */
  private local: boolean[] = [];
  private channels: PeerChannels | undefined;
  private deliveryMs = 0;
  private peerWaitMs = 0;
  private chunks = 0;
  /** Wall-clock ms at which the allreduce started waiting for a key's chunk. */
  private readonly waitingSince = new Map<string, number>();
  private readonly mailbox = new Mailbox();
  private globalStep = 0;
  private ringMs = 0;
  /** This worker's losses since the last sync; they ride along in the allreduce to become global. */
  private pending: number[] = [];
  /** Global losses of this epoch's steps, from the step it started at. */
  private epochLosses: number[] = [];
  private readonly shard: DenseShard;
  private readonly validation: DenseShard | null;

  constructor(readonly spec: WorkerSpec, shard: DenseShard, validation: DenseShard | null) {
    // Own copies: arguments may be views on object-store memory.
    this.shard = { ...shard, x: shard.x.slice(), y: shard.y.slice() };
    this.validation = validation ? { ...validation, x: validation.x.slice(), y: validation.y.slice() } : null;
  }

  async setup(): Promise<{ backend: string; stepsPerEpoch: number; location: WorkerLocation }> {
    this.replica = await Replica.create(this.spec, this.shard, this.validation);
    return { backend: this.replica.backend, stepsPerEpoch: this.replica.stepsPerEpoch, location: locationHere() };
  }

  /**
   * The other workers of this attempt and where they run; returns how many peers it reaches
   * in-process. `channelId` names this attempt's in-process channels (a fresh one per attempt, so a
   * killed attempt's threads never cross it).
   */
  setPeers(peers: ActorHandle<TfjsTrainWorker>[], locations: WorkerLocation[] = [], channelId = ''): number {
    this.peers = peers;
    const here = locationHere();
    this.local = peers.map((_, r) => this.spec.transport === 'auto' && channelId !== '' && locations[r] !== undefined && sameProcess(locations[r], here));
    this.channels?.close();
    const inProcess = this.local.filter((l, r) => l && r !== this.spec.rank).length;
    this.channels = inProcess > 0 ? new PeerChannels(channelId, this.spec.rank, (m) => this.arrived(m)) : undefined;
    return inProcess;
  }

  getState(): Promise<ReplicaState> {
    return this.ready().getState();
  }

  /** Replaces this worker's shard (the data of a new epoch; same row count). */
  setShard(shard: DenseShard): void {
    this.ready().setShard({ ...shard, x: shard.x.slice(), y: shard.y.slice() });
  }

  async load(state: ReplicaState, globalStep: number): Promise<void> {
    await this.ready().setState(state);
    this.globalStep = globalStep;
  }

  /** A chunk from a peer in another process (an actor call). `sentAt`: wall-clock ms at the sender. */
  deliver(key: string, chunk: Float32Array, sentAt?: number): void {
    // A copy: the argument may be a view on memory the runtime reuses.
    this.arrived({ key, chunk: chunk.slice(), sentAt: sentAt ?? wallClockMs() });
  }

  private arrived(m: ChunkMessage): void {
    const since = this.waitingSince.get(m.key);
    if (since !== undefined) {
      // Arrived while the allreduce waited for it (a chunk that came earlier cost no wait).
      this.waitingSince.delete(m.key);
      const from = Math.max(since, m.sentAt);
      this.peerWaitMs += from - since;
      this.deliveryMs += Math.max(0, wallClockMs() - from);
      this.chunks++;
    }
    this.mailbox.put(m.key, m.chunk);
  }

  /** Runs steps `fromStep`.. of `epoch`; `priorLosses` are the global losses of steps 0..fromStep−1 (kept in checkpoints). */
  async trainEpoch(epoch: number, fromStep: number, priorLosses: number[] = []): Promise<WorkerEpochReport> {
    const r = this.ready();
    const { spec } = this;
    const steps = r.stepsPerEpoch;
    const order = r.order(epoch);
    this.pending = [];
    this.epochLosses = [];
    let computeMs = 0;
    let commMs = 0;
    let syncs = 0;
    this.ringMs = 0;
    this.deliveryMs = 0;
    this.peerWaitMs = 0;
    this.chunks = 0;
    for (let s = fromStep; s < steps; s++) {
      const t0 = performance.now();
      this.pending.push(r.trainStep(order, s));
      computeMs += performance.now() - t0;
      this.globalStep++;
      const last = s === steps - 1;
      const checkpoint = last || (spec.checkpointEvery > 0 && this.globalStep % spec.checkpointEvery === 0);
      if (checkpoint || this.globalStep % spec.syncEveryNSteps === 0) {
        const t1 = performance.now();
        await this.sync();
        commMs += performance.now() - t1;
        syncs++;
      }
      if (checkpoint && spec.rank === 0) {
        const next = last ? { epoch: epoch + 1, step: 0 } : { epoch, step: s + 1 };
        const epochLosses = last ? [] : [...priorLosses, ...this.epochLosses];
        await writeCheckpoint(spec.checkpointDir, { ...next, globalStep: this.globalStep, runId: spec.runId, epochLosses }, await r.getState());
      }
    }
    return { rank: spec.rank, fromStep, losses: this.epochLosses, computeMs, commMs, ringMs: this.ringMs, peerWaitMs: this.peerWaitMs, deliveryMs: this.deliveryMs, chunks: this.chunks, syncs, valLoss: spec.rank === 0 ? r.validationLoss() : undefined, globalStep: this.globalStep };
  }

  private async sync(): Promise<void> {
    const { worldSize, rank } = this.spec;
    const losses = this.pending;
    this.pending = [];
    if (worldSize === 1) {
      this.epochLosses.push(...losses);
      return;
    }
    const r = this.ready();
    const state = await r.flatState();
    const buf = new Float32Array(state.length + losses.length);
    buf.set(state);
    buf.set(losses, state.length);
    const t0 = performance.now();
    const powerOfTwo = (worldSize & (worldSize - 1)) === 0;
    const algorithm = this.spec.allreduce === 'auto' ? (powerOfTwo && buf.byteLength <= BUTTERFLY_MAX_BYTES ? 'butterfly' : 'ring') : this.spec.allreduce;
    const allreduce = algorithm === 'butterfly' ? butterflyAllreduceMean : ringAllreduceMean;
    await allreduce(buf, rank, worldSize, `g${this.globalStep}`, {
      send: async (to, key, chunk) => {
        if (this.local[to] && this.channels) this.channels.send(to, key, chunk);
        else await get(this.peers[to]!.deliver.remote(key, chunk, wallClockMs()));
      },
      receive: (key) => {
        if (!this.mailbox.has(key)) this.waitingSince.set(key, wallClockMs());
        return this.mailbox.take(key);
      },
    });
    this.ringMs += performance.now() - t0;
    await r.setFlatState(buf.subarray(0, state.length));
    for (const l of buf.subarray(state.length)) this.epochLosses.push(l);
  }

  private ready(): Replica {
    if (!this.replica) throw new Error('TfjsTrainWorker: setup() was not called');
    return this.replica;
  }
}

export const TfjsTrainWorkerActor = actor(TfjsTrainWorker, { maxConcurrency: 4 });
