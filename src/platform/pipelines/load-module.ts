/**
 * Loading a pipeline module by path (`shoal pipeline run <module>`): a JavaScript module is
 * imported as is; a TypeScript one through tsx's loader, registered once for this process (not a
 * namespaced import: the module must share this process's copy of shoal, whose runtime it uses).
 * The pipeline is the module's default export, else its only exported pipeline.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PipelineModuleError } from '../errors.js';
import { isPipeline, type Pipeline } from './definition.js';

let tsxRegistered: Promise<unknown> | undefined;

/** Imports `path` and returns the pipeline it exports (see the file header). Throws {@link PipelineModuleError}. */
export async function loadPipeline(path: string, options: { name?: string | undefined } = {}): Promise<{ pipeline: Pipeline; module: string }> {
  const file = resolve(path);
  if (!existsSync(file)) throw new PipelineModuleError(path, 'no such file');
  if (/\.(m|c)?tsx?$/.test(file)) {
    tsxRegistered ??= import('tsx/esm/api').then((m) => m.register());
    await tsxRegistered;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code === 'PIPELINE_DEFINITION') throw err;
    throw new PipelineModuleError(path, `could not be imported: ${(err as Error).message}`, { cause: err });
  }
  const found = Object.entries(mod).filter(([, v]) => isPipeline(v)) as Array<[string, Pipeline]>;
  if (options.name !== undefined) {
    const hit = found.find(([, p]) => p.name === options.name);
    if (!hit) throw new PipelineModuleError(path, `exports no pipeline named '${options.name}' (it exports: ${found.map(([, p]) => p.name).join(', ') || 'none'})`);
    return { pipeline: hit[1], module: file };
  }
  const def = found.find(([k]) => k === 'default');
  if (def) return { pipeline: def[1], module: file };
  if (found.length === 1) return { pipeline: found[0]![1], module: file };
  if (!found.length) throw new PipelineModuleError(path, 'exports no pipeline (export default pipeline(...))');
  throw new PipelineModuleError(path, `exports several pipelines (${found.map(([, p]) => p.name).join(', ')}); name one`);
}
