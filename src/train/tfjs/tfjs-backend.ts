/**
 * Loads TensorFlow.js lazily (importing it costs ~250 ms and a few MB of heap, so modules that only
 * define actors must not). Uses the native `@tensorflow/tfjs-node` when it is installed, else
 * `@tensorflow/tfjs` with the WebAssembly backend (SIMD; ~18 GFLOP/s matmul on this machine).
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;

let loading: Promise<{ tf: Tf; backend: string }> | undefined;

/** The tfjs module of this thread, with its backend ready. */
export function loadTf(): Promise<{ tf: Tf; backend: string }> {
  loading ??= (async () => {
    const nodeName = '@tensorflow/tfjs-node';
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
    return { tf, backend: tf.getBackend() };
  })();
  return loading;
}
