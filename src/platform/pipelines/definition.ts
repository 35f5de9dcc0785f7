/**
 * Pipeline definitions. A pipeline is a module exporting `pipeline(name, { params, steps })`: each
 * entry of `steps` uses a step (step.ts) and says where each of its inputs comes from — a parameter,
 * an output of another step, a constant, or the element of a map. The DAG follows from those
 * references; there is no separate edge list. A step entry with `map` runs once per element of a
 * list (a parameter or an upstream output) — a fan-out; a step that takes the mapped step's output
 * gets the list of its elements' outputs, in order — the join. `when` is a condition: the step runs
 * only if the predicate on its (upstream) inputs holds; otherwise it and what depends on it are
 * skipped.
 *
 * Everything that can be checked without running is checked here, at definition time: step names
 * (valid, unique), inputs naming unknown steps or parameters, cycles, parameter specs, maps — each a
 * {@link PipelineDefinitionError} naming what is wrong.
 */
import { PipelineDefinitionError } from '../errors.js';
import { checkParamSpecs, type ParamSpec } from './params.js';
import { isStep, STEP_NAME, type Step } from './step.js';
import type { MetricsArtifact } from './artifacts.js';

/** Where a step input comes from. */
export type InputSource =
  | { readonly from: 'param'; readonly name: string }
  | { readonly from: 'step'; readonly step: string; readonly output?: string | undefined }
  | { readonly from: 'value'; readonly value: unknown }
  | { readonly from: 'item' };

/** The value of pipeline parameter `name`. */
export const fromParam = (name: string): InputSource => ({ from: 'param', name });
/** Output `output` of step `step` (all its outputs as an object when `output` is omitted); of a mapped step, the list of them. */
export const fromStep = (step: string, output?: string): InputSource => ({ from: 'step', step, output });
/** A constant. */
export const constant = (value: unknown): InputSource => ({ from: 'value', value });
/** In a mapped step: the element of the list this instance runs for. */
export const mapItem = (): InputSource => ({ from: 'item' });

/** What a `when` predicate gets besides the step's inputs (it runs in the process running the pipeline). */
export interface ConditionContext {
  readonly params: Readonly<Record<string, unknown>>;
  /** The metrics a metrics artifact holds. */
  readMetrics(ref: MetricsArtifact): Promise<Record<string, number>>;
}

type InputsOf<S> = S extends Step<infer I, object> ? I : Record<string, unknown>;

/** One entry of a pipeline's `steps`. */
export interface StepEntry<S extends Step<any, any> = Step<any, any>> {
  /** The step to run. */
  step: S;
  /** Its name in this pipeline (unique). @default the step's own name */
  name?: string;
  /** Where each input comes from. */
  inputs?: { [K in keyof InputsOf<S>]?: InputSource };
  /** Fan-out: run once per element of this list; `mapItem()` in `inputs` is the element. */
  map?: InputSource;
  /** Run only when this holds (on the resolved inputs); otherwise the step and its downstream are skipped. */
  when?: (inputs: Record<string, unknown>, ctx: ConditionContext) => boolean | Promise<boolean>;
  /** Overrides the step's own `cache` option. */
  cache?: boolean;
}

export interface PipelineSpec {
  params?: Record<string, ParamSpec>;
  steps: StepEntry[];
  description?: string;
}

/** A node of the compiled DAG. */
export interface PipelineNode {
  readonly name: string;
  readonly step: Step;
  readonly inputs: Readonly<Record<string, InputSource>>;
  readonly map: InputSource | undefined;
  readonly when: StepEntry['when'];
  readonly cache: boolean;
  /** Steps this one takes inputs from (its upstream), sorted. */
  readonly upstream: readonly string[];
}

/** A defined pipeline: checked, with its steps in a topological order. */
export interface Pipeline {
  readonly kind: 'pipeline';
  readonly name: string;
  readonly description: string | undefined;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Nodes in a topological order (each after its upstream). */
  readonly nodes: readonly PipelineNode[];
}

export function isPipeline(v: unknown): v is Pipeline {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'pipeline' && Array.isArray((v as { nodes?: unknown }).nodes);
}

const SOURCES = new Set(['param', 'step', 'value', 'item']);

/** Defines a pipeline; throws {@link PipelineDefinitionError} for what is wrong with it (see the file header). */
export function pipeline(name: string, spec: PipelineSpec): Pipeline {
  const fail = (problem: PipelineDefinitionError['problem'], steps: string[], detail: string): never => {
    throw new PipelineDefinitionError(String(name), problem, steps, detail);
  };
  if (typeof name !== 'string' || !STEP_NAME.test(name)) fail('invalid', [], `the pipeline name must start with a letter or _ and hold only letters, digits, _, . and - (got ${JSON.stringify(name)})`);
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.steps) || spec.steps.length === 0) fail('invalid', [], 'needs { steps: [...] } with at least one step');
  const params = spec.params ?? {};
  const paramProblem = checkParamSpecs(params);
  if (paramProblem) fail('invalid', [], paramProblem);

  const entries = new Map<string, StepEntry>();
  spec.steps.forEach((e, i) => {
    if (typeof e !== 'object' || e === null || !isStep(e.step)) fail('invalid', [], `steps[${i}] must be { step, inputs?, ... } with a step made by step()`);
    const n = e.name ?? e.step.name;
    if (typeof n !== 'string' || !STEP_NAME.test(n)) fail('invalid', [String(n)], `steps[${i}] has an invalid name ${JSON.stringify(n)}`);
    if (entries.has(n)) fail('duplicate-step', [n], `two steps are named '${n}'; give one a distinct { name }`);
    entries.set(n, e);
  });

  const nodes = new Map<string, PipelineNode>();
  for (const [n, e] of entries) {
    const upstream = new Set<string>();
    const check = (src: InputSource, where: string, inMap: boolean): void => {
      if (typeof src !== 'object' || src === null || !SOURCES.has((src as { from?: string }).from ?? '')) {
        fail('invalid', [n], `step '${n}' ${where} must be fromParam(), fromStep(), constant() or mapItem()`);
      }
      if (src.from === 'param' && !(src.name in params)) {
        fail('unknown-param', [n], `step '${n}' ${where} names parameter '${src.name}', which the pipeline does not have (it has: ${Object.keys(params).join(', ') || 'none'})`);
      }
      if (src.from === 'step') {
        if (!entries.has(src.step)) fail('unknown-step', [n, src.step], `step '${n}' ${where} names step '${src.step}', which the pipeline does not have (it has: ${[...entries.keys()].join(', ')})`);
        if (src.output !== undefined && (typeof src.output !== 'string' || src.output === '')) fail('unknown-output', [n, src.step], `step '${n}' ${where} names an invalid output of '${src.step}'`);
        upstream.add(src.step);
      }
      if (src.from === 'item' && !inMap) fail('invalid', [n], `step '${n}' ${where} uses mapItem() but the step has no map`);
    };
    if (e.map !== undefined) {
      check(e.map, 'map', false);
      if (e.map.from === 'item') fail('invalid', [n], `step '${n}' cannot map over mapItem()`);
      if (e.map.from === 'param' && params[e.map.name]?.type !== 'list') fail('invalid', [n], `step '${n}' maps over parameter '${e.map.name}', which is not a list parameter`);
      if (e.map.from === 'value' && !Array.isArray(e.map.value)) fail('invalid', [n], `step '${n}' maps over a constant that is not a list`);
    }
    const inputs = e.inputs ?? {};
    if (typeof inputs !== 'object' || inputs === null) fail('invalid', [n], `step '${n}' inputs must be an object of name → source`);
    for (const [k, src] of Object.entries(inputs as Record<string, InputSource>)) check(src, `input '${k}'`, e.map !== undefined);
    if (e.when !== undefined && typeof e.when !== 'function') fail('invalid', [n], `step '${n}' when must be a function`);
    if (e.when !== undefined && e.map !== undefined) fail('invalid', [n], `step '${n}' has both map and when; put the condition on a step of its own`);
    if (e.cache !== undefined && typeof e.cache !== 'boolean') fail('invalid', [n], `step '${n}' cache must be true or false`);
    nodes.set(n, {
      name: n, step: e.step, inputs: inputs as Record<string, InputSource>, map: e.map, when: e.when,
      cache: e.cache ?? e.step.options.cache, upstream: [...upstream].sort(),
    });
  }
  return { kind: 'pipeline', name, description: spec.description, params, nodes: topoOrder(name, nodes) };
}

/** Nodes in a topological order (stable: definition order among ready nodes); a cycle is a PipelineDefinitionError listing it. */
function topoOrder(name: string, nodes: Map<string, PipelineNode>): PipelineNode[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const out: PipelineNode[] = [];
  const path: string[] = [];
  const visit = (n: string): void => {
    const s = state.get(n);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(n)), n];
      throw new PipelineDefinitionError(name, 'cycle', cycle, `its steps form a cycle (each takes an input from the next): ${cycle.join(' → ')}`);
    }
    state.set(n, 'visiting');
    path.push(n);
    for (const u of nodes.get(n)!.upstream) visit(u);
    path.pop();
    state.set(n, 'done');
    out.push(nodes.get(n)!);
  };
  for (const n of nodes.keys()) visit(n);
  return out;
}

/** The DAG as plain data (stored with each run; `shoal pipeline show` draws it). */
export function dagOf(p: Pipeline): Array<{ name: string; step: string; upstream: string[]; map: boolean; condition: boolean }> {
  return p.nodes.map((n) => ({ name: n.name, step: n.step.name, upstream: [...n.upstream], map: n.map !== undefined, condition: n.when !== undefined }));
}
