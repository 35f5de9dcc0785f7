/**
 * Where remote functions and actor classes are registered, on both sides of the wire.
 *
 * A remote function is identified by (code bundle hash, name). On the driver, `remote()` records the
 * module that called it; the module is bundled and shipped. On a worker, importing that bundle runs
 * the module's top level again, and each `remote()`/`actor()` call there registers its definition in
 * the scope of the bundle being imported — so the worker finds the function by name.
 */
import { findSourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RemoteDefinitionError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';

export interface Definition {
  kind: 'function' | 'actor';
  name: string;
  /** Absolute path of the defining module, and line, for messages. */
  file: string;
  line: number;
  target: (...args: any[]) => unknown;
}

let loadingScope: Map<string, Definition> | null = null;
let loadingPath: string | null = null;
let loadingErrors: string[] = [];
let importChain: Promise<unknown> = Promise.resolve();
const loaded = new Map<string, Promise<Map<string, Definition>>>();

// Frames inside the core runtime are skipped; other layers of shoal (data, train, ...) define
// built-in remote functions, which workers import from their own installation. The serve layer's
// `deployment()` calls `actor()` for the user's class: its module's frames are skipped too, so the
// class is found in the user's module (the serve layer's own actors, defined elsewhere in it, are
// built-ins). So are the platform layer's: a pipeline's `step()` calls `remote()` for the user's function.
const coreDirs = [
  `${PACKAGE_ROOT}/dist/src/core/`, `${PACKAGE_ROOT}/src/core/`, `${PACKAGE_ROOT}/dist/src/serve/deployment.js`, `${PACKAGE_ROOT}/src/serve/deployment.ts`,
  `${PACKAGE_ROOT}/dist/src/platform/`, `${PACKAGE_ROOT}/src/platform/`,
];
const builtinPrefixes = [`${PACKAGE_ROOT}/dist/src/`, `${PACKAGE_ROOT}/src/`];

/** Every registration in this realm, by `file#name` (built-ins are found here). */
const allDefinitions = new Map<string, Definition>();

/**
 * For a definition site inside shoal's own package: the compiled module's path relative to the
 * package root (`dist/src/data/tasks.js`), also when the caller runs from TypeScript sources.
 */
export function builtinModule(file: string): string | undefined {
  const prefix = builtinPrefixes.find((p) => file.startsWith(p));
  if (!prefix) return undefined;
  const rel = file.slice(prefix.length).replace(/\.ts$/, '.js');
  return `dist/src/${rel}`;
}

/** The user module (file, line) that called into shoal: the first stack frame outside shoal. */
export function callerSite(): { file: string; line: number } {
  const saved = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  Error.prepareStackTrace = (_e, frames) => frames;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder);
  const frames = holder.stack ?? [];
  Error.prepareStackTrace = saved;
  Error.stackTraceLimit = savedLimit;
  for (const f of frames) {
    let file = f.getFileName() ?? '';
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (!file || file.startsWith('node:') || coreDirs.some((d) => file.startsWith(d))) continue;
    const line = f.getLineNumber() ?? 0;
    // Inside a code bundle on a worker, report the user's module, not the cached bundle file
    // (built-in modules of shoal keep their compiled path: it is their identity).
    const mapped = process.env.SHOAL_IN_WORKER && !builtinPrefixes.some((p) => file.startsWith(p));
    const entry = mapped ? findSourceMap(file)?.findEntry(line - 1, (f.getColumnNumber() ?? 1) - 1) : undefined;
    const original = entry as { originalSource?: string; originalLine?: number } | undefined;
    if (original?.originalSource) {
      const src = original.originalSource.startsWith('file://') ? fileURLToPath(original.originalSource) : original.originalSource;
      return { file: src, line: (original.originalLine ?? 0) + 1 };
    }
    return { file, line };
  }
  return { file: '', line: 0 };
}

/** The content hash of the code bundle being imported on a worker (its file is `<hash>.mjs`). */
export function loadingBundleHash(): string | undefined {
  const m = loadingPath ? /([0-9a-f]{32})\.mjs$/.exec(loadingPath) : null;
  return m?.[1];
}

/** True while a code bundle is being imported on a worker. */
export function isLoadingBundle(): boolean {
  return loadingScope !== null;
}

/** Called by `remote()` and `actor()`: registers the definition when a bundle is loading. */
export function registerDefinition(def: Definition): void {
  allDefinitions.set(`${def.file}#${def.name}`, def);
  if (!loadingScope) return;
  const prev = loadingScope.get(def.name);
  if (prev && prev.target !== def.target) {
    loadingErrors.push(
      `two remote definitions are named '${def.name}' in one code bundle (${prev.file}:${prev.line} and ` +
        `${def.file}:${def.line}); give one a distinct { name } option`,
    );
    return;
  }
  loadingScope.set(def.name, def);
}

/** Imports a bundle file once per thread and returns the definitions it registered. */
export function importBundle(path: string): Promise<Map<string, Definition>> {
  let p = loaded.get(path);
  if (!p) {
    p = importChain.then(async () => {
      const scope = new Map<string, Definition>();
      loadingScope = scope;
      loadingPath = path;
      loadingErrors = [];
      try {
        await import(pathToFileURL(path).href);
      } finally {
        loadingScope = null;
        loadingPath = null;
      }
      if (loadingErrors.length) throw new RemoteDefinitionError(loadingErrors.join('; '), path);
      return scope;
    });
    importChain = p.catch(() => undefined);
    loaded.set(path, p);
  }
  return p;
}

const resolved = new Map<string, Definition>();

/** Looks up a definition in a loaded bundle; the error says what the bundle does define. */
export async function resolveDefinition(path: string, name: string, kind: Definition['kind'], definedAt: string, builtin = false): Promise<Definition> {
  const key = `${path}#${name}`;
  const hit = resolved.get(key);
  if (hit && hit.kind === kind) return hit;
  if (builtin) {
    await import(pathToFileURL(path).href);
    const def = allDefinitions.get(key);
    if (!def || def.kind !== kind) {
      throw new RemoteDefinitionError(`built-in ${kind} '${name}' is not defined by ${path}`, definedAt);
    }
    resolved.set(key, def);
    return def;
  }
  const defs = await importBundle(path);
  const def = defs.get(name);
  if (!def || def.kind !== kind) {
    const have = [...defs.values()].filter((d) => d.kind === kind).map((d) => d.name);
    throw new RemoteDefinitionError(
      `${kind === 'function' ? 'remote function' : 'actor class'} '${name}' (defined at ${definedAt}) was not ` +
        `registered when its module was loaded on the worker — remote functions and actor classes must be ` +
        `created at the top level of a module, not inside functions or conditionals ` +
        `(the module registered: ${have.join(', ') || 'nothing'})`,
      definedAt,
    );
  }
  resolved.set(key, def);
  return def;
}
