/**
 * How shoal's public signatures name TensorFlow.js objects without importing its typings.
 * TensorFlow.js is an optional peer dependency, and its declarations need the DOM lib (and do not
 * compile under `skipLibCheck: false`), so no declaration file shoal publishes may import them — one
 * that did would break every consumer of `shoal/train`, training or not. Internally, code casts to the
 * real types (`Tf` in tfjs-backend.ts) right where it receives these.
 */

/**
 * The `@tensorflow/tfjs` module, as a model builder receives it. Typed `any` here; annotate your
 * builder's parameter with `typeof import('@tensorflow/tfjs')` for TensorFlow.js's own types.
 */
export type TfModule = any;

/** A `tf.LayersModel`: the members shoal calls on a model a builder returns (a real LayersModel has them all). */
export interface TfLayersModel {
  readonly inputs: readonly { readonly shape: readonly (number | null)[] }[];
  getLayer(name: string): unknown;
  toJSON(unused?: null, returnString?: boolean): unknown;
  dispose(): unknown;
}
