/**
 * `deployment(Class, options)`: a class whose instances (replicas) run as shoal actors. Define it at
 * the top level of a module, like an actor class: workers import that module to find the class.
 * `bind(...args)` fixes the constructor arguments (a model version, another deployment's handle)
 * and gives an application the controller can run.
 */
import { actor, type ActorClass, type ActorHandle, type ActorOptions } from '../core/index.js';
import { compileDeploymentOptions, type CompiledDeploymentOptions, type DeploymentOptions } from './deployment-options.js';
import { InvalidOptionError } from './errors.js';
import { HANDLE_UPDATE_METHOD, updateHandles, type DirectTarget } from './deployment-handle.js';
import { serveMany, SERVE_MANY_METHOD } from './replica-mux.js';
import { DIRECT_METHOD, openDirectServer } from './direct-channel.js';
import { INVOKE_METHOD, invokeCounted, LOAD_METHOD, readLoad } from './replica-load.js';
import type { ServeRequest } from './serve-types.js';

type AnyClass = new (...args: any[]) => any;

/** A deployment definition: the class, its actor class, and its options. */
export class Deployment<C extends AnyClass = AnyClass> {
  /** @internal */
  constructor(
    readonly Class: C,
    readonly actorClass: ActorClass<C>,
    readonly rawOptions: DeploymentOptions,
    readonly config: CompiledDeploymentOptions,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** The same class with options changed (e.g. `{ version: 'v2' }`). */
  options(options: DeploymentOptions): Deployment<C> {
    const raw = { ...this.rawOptions, ...options };
    return new Deployment(this.Class, this.actorClass, raw, compileDeploymentOptions(raw, this.Class.name));
  }

  /** Binds constructor arguments; arguments may be other bound deployments (they become handles). */
  bind(...args: ConstructorParameters<C>): BoundDeployment<C> {
    return new BoundDeployment(this, args);
  }

  /** @internal The actor class with the replica's resources and concurrency. */
  replicaActorClass(detached = false): ActorClass<C> {
    const { CPU, memory, ...rest } = this.config.resources;
    const o: ActorOptions = { maxConcurrency: this.config.maxOngoingRequests, numCpus: CPU ?? 0 };
    if (detached) o.lifetime = 'detached';
    if (memory !== undefined) o.memory = memory;
    if (Object.keys(rest).length) o.resources = rest;
    return this.actorClass.options(o);
  }
}

/** A deployment with its constructor arguments bound: what `serve.run` / `controller.deploy` takes. */
export class BoundDeployment<C extends AnyClass = AnyClass> {
  constructor(readonly deployment: Deployment<C>, readonly args: unknown[]) {}
}

/**
 * Makes a class deployable: replicas are actors of it. The ingress calls its `call(request)` method
 * (or, with `batching`, its batch method with an array of requests).
 *
 * @example
 * export const Echo = deployment(class Echo { call(req: ServeRequest) { return { got: req.body }; } }, { numReplicas: 2 });
 */
export function deployment<C extends AnyClass>(Class: C, options: DeploymentOptions = {}): Deployment<C> {
  if (typeof Class !== 'function') throw new InvalidOptionError(`deployment() takes a class (got ${typeof Class})`);
  const config = compileDeploymentOptions(options, Class.name);
  // Every replica also takes coalesced calls from the ingress (replica-mux.ts). The module defining
  // the deployment runs this on the workers too, so the method is there wherever the class is.
  if (!Object.prototype.hasOwnProperty.call(Class.prototype, SERVE_MANY_METHOD)) {
    const className = Class.name;
    Object.defineProperty(Class.prototype, SERVE_MANY_METHOD, {
      value: function (this: object, reqs: ServeRequest[]) {
        return serveMany(this, className, reqs);
      },
      enumerable: false, writable: true, configurable: true,
    });
  }
  // ... and opens the direct channel the ingress calls it over (direct-channel.ts).
  if (!Object.prototype.hasOwnProperty.call(Class.prototype, DIRECT_METHOD)) {
    const className = Class.name;
    Object.defineProperty(Class.prototype, DIRECT_METHOD, {
      value: function (this: Record<string, unknown>, secret: string) {
        return openDirectServer(this, className, secret);
      },
      enumerable: false, writable: true, configurable: true,
    });
  }
  // ... and takes handle calls counted as load the autoscaler sees (replica-load.ts).
  if (!Object.prototype.hasOwnProperty.call(Class.prototype, INVOKE_METHOD)) {
    const className = Class.name;
    Object.defineProperty(Class.prototype, INVOKE_METHOD, {
      value: function (this: Record<string, unknown>, method: string, args: unknown[]) {
        return invokeCounted(this, className, method, args);
      },
      enumerable: false, writable: true, configurable: true,
    });
    Object.defineProperty(Class.prototype, LOAD_METHOD, {
      value: function (this: object) {
        return readLoad(this);
      },
      enumerable: false, writable: true, configurable: true,
    });
  }
  // ... and the replica lists of the deployments it holds handles to, when those change.
  if (!Object.prototype.hasOwnProperty.call(Class.prototype, HANDLE_UPDATE_METHOD)) {
    Object.defineProperty(Class.prototype, HANDLE_UPDATE_METHOD, {
      value: (name: string, replicas: ActorHandle<any>[], directs?: Array<DirectTarget | null>) => updateHandles(name, replicas, directs),
      enumerable: false, writable: true, configurable: true,
    });
  }
  return new Deployment(Class, actor(Class), options, config);
}
