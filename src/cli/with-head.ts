import { HeadClient } from '../core/index.js';
import { resolveTarget, type TargetFlags } from './target.js';

/** Runs `fn` with a client of the cluster the flags and environment point to, then closes it. */
export async function withHead<T>(flags: TargetFlags, fn: (head: HeadClient) => Promise<T>): Promise<T> {
  const head = new HeadClient(resolveTarget(flags));
  try {
    return await fn(head);
  } finally {
    head.close();
  }
}
