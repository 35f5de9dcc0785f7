import { registerCodecClass } from '../wire/serialization.js';

const MARK = Symbol.for('shoal/ObjectRef');

/**
 * A reference to an immutable object in the cluster: the result of a task, or a value given to
 * `put()`. Pass it to `get()` to read the value, or to another task as an argument (top-level refs
 * are resolved to their values before the task runs; refs nested in arrays or objects arrive as refs).
 */
export class ObjectRef<T = unknown> {
  declare readonly __type?: T;
  readonly [MARK] = true;

  constructor(readonly id: string) {
    refHooks.onCreate?.(this);
  }

  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && MARK in value;
  }

  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  toJSON(): { objectRef: string } {
    return { objectRef: this.id };
  }
}

/**
 * Hooks the runtime installs to count references (driver: FinalizationRegistry) and to learn which
 * refs a serialized value contains.
 */
export const refHooks: {
  onCreate?: (ref: ObjectRef) => void;
  onSerialize?: (ref: ObjectRef) => void;
} = {};

registerCodecClass({
  Class: ObjectRef,
  type: 0x21,
  write: (ref: ObjectRef) => {
    refHooks.onSerialize?.(ref);
    return ref.id;
  },
  read: (id: string) => new ObjectRef(id),
});

/**
 * Marks a top-level task argument that is resolved to its value before the task runs. Only the
 * runtime creates these, when it serializes a task's arguments.
 */
export class ArgPlaceholder {
  constructor(readonly index: number) {}
}

registerCodecClass({
  Class: ArgPlaceholder,
  type: 0x22,
  write: (p: ArgPlaceholder) => p.index,
  read: (index: number) => new ArgPlaceholder(index),
});
