/**
 * Per-module tracing, switched on by SHOAL_TRACE (e.g. `SHOAL_TRACE=scheduler,objects` or `all`),
 * like grpc-js GRPC_TRACE. Messages are built lazily so disabled tracing costs one lookup.
 */
const enabled = new Set((process.env.SHOAL_TRACE ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const all = enabled.has('all') || enabled.has('*');

export function trace(module: string, message: () => string): void {
  if (all || enabled.has(module)) {
    process.stderr.write(`${(performance.timeOrigin + performance.now()).toFixed(3)} [shoal:${module}] pid=${process.pid} ${message()}\n`);
  }
}
