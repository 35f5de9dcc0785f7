/**
 * Loads TensorFlow.js lazily (importing it costs ~250 ms and a few MB of heap, so modules that only
 * define actors must not). Uses the native `@tensorflow/tfjs-node` when it is installed, else
 * `@tensorflow/tfjs` with the WebAssembly backend (SIMD; ~18 GFLOP/s matmul on this machine).
 *
 * TensorFlow.js is an optional peer dependency of shoal (a user who never trains installs without
 * it), so its absence is found here, before anything starts, and said with a typed error naming the
 * packages to install.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import { PACKAGE_ROOT } from '../../core/index.js';
import { TfjsNotInstalledError } from '../errors.js';

export type Tf = typeof TF;

interface WasmBackendLike {
  readSync(dataId: unknown): ArrayLike<number>;
  makeOutput(shape: number[], dtype: TF.DataType): TF.TensorInfo;
  typedArrayFromHeap(t: TF.TensorInfo): Float32Array | Int32Array;
}

/**
 * The wasm backend has no UnsortedSegmentSum kernel, which is the gradient of gather — so without
 * this, no model with an embedding layer can train on it ("Kernel 'UnsortedSegmentSum' not
 * registered for backend 'wasm'"). A plain loop: out[ids[r]] += x[r] (rows with an id outside
 * [0, numSegments) are dropped, as in TensorFlow).
 */
function registerMissingWasmKernels(tf: Tf): void {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: TF.TensorInfo; segmentIds: TF.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackendLike;
      const xs = b.readSync(x.dataId);
      const ids = b.readSync(segmentIds.dataId);
      const inner = ids.length === 0 ? 0 : xs.length / ids.length;
      const out = b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
      const o = b.typedArrayFromHeap(out);
      o.fill(0);
      for (let r = 0; r < ids.length; r++) {
        const s = ids[r]!;
        if (s < 0 || s >= numSegments) continue;
        const src = r * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) o[dst + j]! += xs[src + j]!;
      }
      return out;
    },
  });
}

/** The native bindings, used instead of the wasm backend when installed (never a dependency of shoal: they download libtensorflow). */
const TFJS_NODE = '@tensorflow/tfjs-node';
/** The optional peer dependencies training with the wasm backend needs. */
const TFJS_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;

function resolvable(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** The version range shoal declares for a peer dependency (its package.json). */
function peerRange(name: string): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { peerDependencies?: Record<string, string> };
  return pkg.peerDependencies?.[name] ?? 'latest';
}

/** Throws TfjsNotInstalledError unless the packages loadTf() needs can be imported (without importing them). */
export function assertTfjsInstalled(): void {
  if (resolvable(TFJS_NODE)) return;
  const missing = TFJS_PACKAGES.filter((p) => !resolvable(p));
  if (missing.length > 0) throw new TfjsNotInstalledError(missing, `npm install ${missing.map((p) => `${p}@${peerRange(p)}`).join(' ')}`);
}

let loading: Promise<{ tf: Tf; backend: string }> | undefined;

/** The tfjs module of this thread, with its backend ready; rejects with TfjsNotInstalledError when it is not installed. */
export function loadTf(): Promise<{ tf: Tf; backend: string }> {
  loading ??= (async () => {
    assertTfjsInstalled();
    const nodeName = TFJS_NODE;
    try {
      const tf = (await import(nodeName)) as Tf;
      await tf.ready();
      return { tf, backend: tf.getBackend() };
    } catch {
      /* not installed: the wasm backend */
    }
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    registerMissingWasmKernels(tf);
    return { tf, backend: tf.getBackend() };
  })();
  return loading;
}
