/**
 * One model replica: a tf.LayersModel built from JSON, its optimizer, its shard of dense rows, and
 * the state that data-parallel training keeps equal across replicas — every weight (trainable and
 * not) and the optimizer's slots (Adam's moments, momentum accumulators), flattened into one
 * Float32Array for the allreduce. The optimizer's iteration count is the same on every replica and
 * is not averaged.
 */
import type * as TF from '@tensorflow/tfjs';
import { seededRandom } from '../tune/search-space.js';
import { loadTf, type Tf } from './tfjs-backend.js';
import type { DenseShard } from './training-data.js';
import type { ReplicaSpec, ReplicaState } from './replica-data.js';
import type { LossName, OptimizerConfig } from './trainer-options.js';

export class Replica {
  private constructor(
    readonly tf: Tf,
    readonly backend: string,
    readonly model: TF.LayersModel,
    private optimizer: TF.Optimizer,
    readonly spec: ReplicaSpec,
    private data: DenseShard,
    readonly validation: DenseShard | null,
  ) {}

  static async create(spec: ReplicaSpec, shard: DenseShard, validation: DenseShard | null): Promise<Replica> {
    const { tf, backend } = await loadTf();
    const json: unknown = typeof spec.modelJSON === 'string' ? JSON.parse(spec.modelJSON) : spec.modelJSON;
    const model = await tf.models.modelFromJSON(json as TF.io.ModelJSON);
    return new Replica(tf, backend, model, makeOptimizer(tf, spec.optimizer), spec, shard, validation);
  }

  get shard(): DenseShard {
    return this.data;
  }

  /** Trains on other rows from now on (as many as before: the steps per epoch stay fixed). */
  setShard(shard: DenseShard): void {
    if (shard.n !== this.data.n || shard.d !== this.data.d || shard.k !== this.data.k) {
      throw new RangeError(`setShard: ${shard.n}×${shard.d}+${shard.k} rows do not match the current ${this.data.n}×${this.data.d}+${this.data.k}`);
    }
    this.data = shard;
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.shard.n / this.spec.localBatch);
  }

  /** Row order of an epoch (seeded by seed, epoch and rank). */
  order(epoch: number): Int32Array {
    const p = new Int32Array(this.shard.n);
    for (let i = 0; i < p.length; i++) p[i] = i;
    if (!this.spec.shuffle) return p;
    const rand = seededRandom((this.spec.seed * 1_000_003 + epoch * 7919 + this.spec.rank * 104_729) >>> 0);
    for (let i = p.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  /** One optimizer step on the rows `order[step·b, (step+1)·b)`; returns the batch loss. */
  trainStep(order: Int32Array, step: number): number {
    const { tf, shard } = this;
    const from = step * this.spec.localBatch;
    const to = Math.min(from + this.spec.localBatch, shard.n);
    const m = to - from;
    const xb = new Float32Array(m * shard.d);
    const yb = new Float32Array(m * shard.k);
    for (let i = 0; i < m; i++) {
      const r = order[from + i]!;
      xb.set(shard.x.subarray(r * shard.d, (r + 1) * shard.d), i * shard.d);
      yb.set(shard.y.subarray(r * shard.k, (r + 1) * shard.k), i * shard.k);
    }
    const loss = tf.tidy((): TF.Scalar => {
      const x = tf.tensor2d(xb, [m, shard.d]);
      const y = tf.tensor2d(yb, [m, shard.k]);
      const l = this.optimizer.minimize(() => lossOf(tf, this.spec.loss, y, this.model.apply(x, { training: true }) as TF.Tensor), true);
      if (!l) throw new Error('optimizer.minimize returned no loss');
      return l;
    });
    const v = loss.dataSync()[0]!;
    loss.dispose();
    return v;
  }

  /** Loss on the validation rows with the current weights. */
  validationLoss(): number | undefined {
    const { tf, validation: v } = this;
    if (!v || v.n === 0) return undefined;
    const loss = tf.tidy(() => lossOf(tf, this.spec.loss, tf.tensor2d(v.y, [v.n, v.k]), this.model.predict(tf.tensor2d(v.x, [v.n, v.d])) as TF.Tensor));
    const out = loss.dataSync()[0]!;
    loss.dispose();
    return out;
  }

  private async optimizerSlots(): Promise<{ name: string; tensor: TF.Tensor }[]> {
    const all = await this.optimizer.getWeights();
    // getWeights() makes a new 'iter' scalar at every call; dropped here, it must be freed (one leaked tensor per sync otherwise).
    for (const w of all) if (w.name === 'iter') w.tensor.dispose();
    return all.filter((w) => w.name !== 'iter');
  }

  /** Weights and optimizer slots, concatenated (what the allreduce averages). */
  async flatState(): Promise<Float32Array> {
    const parts = [...this.model.getWeights(), ...(await this.optimizerSlots()).map((w) => w.tensor)].map((t) => t.dataSync() as Float32Array);
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Writes back what `flatState()` produced (after averaging). */
  async setFlatState(buf: Float32Array): Promise<void> {
    const { tf } = this;
    const weights = this.model.getWeights();
    let at = 0;
    const next = weights.map((w) => {
      const t = tf.tensor(buf.subarray(at, at + w.size), w.shape);
      at += w.size;
      return t;
    });
    this.model.setWeights(next);
    tf.dispose(next);
    for (const slot of await this.optimizerSlots()) {
      const t = tf.tensor(buf.subarray(at, at + slot.tensor.size), slot.tensor.shape);
      at += slot.tensor.size;
      (slot.tensor as TF.Variable).assign(t);
      t.dispose();
    }
  }

  async getState(): Promise<ReplicaState> {
    const weights = this.model.getWeights().map((w, i) => ({ name: `w${i}`, shape: [...w.shape], data: (w.dataSync() as Float32Array).slice() }));
    const optimizer = (await this.optimizer.getWeights()).map((w) => {
      const out = { name: w.name, shape: [...w.tensor.shape], data: Float32Array.from(w.tensor.dataSync()) };
      if (w.name === 'iter') w.tensor.dispose(); // a fresh scalar per call (the slots are the live variables)
      return out;
    });
    return { weights, optimizer };
  }

  async setState(state: ReplicaState): Promise<void> {
    const { tf } = this;
    const ts = state.weights.map((w) => tf.tensor(w.data, w.shape));
    this.model.setWeights(ts);
    tf.dispose(ts);
    this.optimizer.dispose();
    this.optimizer = makeOptimizer(tf, this.spec.optimizer);
    if (state.optimizer.length > 0) {
      await this.optimizer.setWeights(state.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.data, w.shape) })));
    }
  }
}

export function makeOptimizer(tf: Tf, o: Required<OptimizerConfig>): TF.Optimizer {
  switch (o.type) {
    case 'sgd':
      return tf.train.sgd(o.learningRate);
    case 'momentum':
      return tf.train.momentum(o.learningRate, o.momentum);
    case 'adam':
      return tf.train.adam(o.learningRate, o.beta1, o.beta2, o.epsilon);
    case 'rmsprop':
      return tf.train.rmsprop(o.learningRate, 0.9, o.momentum, o.epsilon);
  }
}

/** Mean loss over the batch. */
export function lossOf(tf: Tf, loss: LossName, y: TF.Tensor, pred: TF.Tensor): TF.Scalar {
  switch (loss) {
    case 'meanSquaredError':
      return tf.losses.meanSquaredError(y, pred) as TF.Scalar;
    case 'meanAbsoluteError':
      return tf.losses.absoluteDifference(y, pred) as TF.Scalar;
    case 'huberLoss':
      return tf.losses.huberLoss(y, pred) as TF.Scalar;
    case 'binaryCrossentropy':
      return tf.mean(tf.metrics.binaryCrossentropy(y, pred));
    case 'categoricalCrossentropy':
      return tf.mean(tf.metrics.categoricalCrossentropy(y, pred));
  }
}
