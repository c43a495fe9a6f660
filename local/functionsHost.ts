/**
 * The Azure Functions Node.js worker (azure-functions-nodejs-worker 3.x), as
 * far as the local host needs it, following its sources step by step.
 *
 * The worker provides the `@azure/functions-core` module to the app. Through it
 * `@azure/functions` registers every function (`registerFunction`), its hooks
 * (`registerHook`) and its programming model (`setProgrammingModel`). Loading
 * the app means what the worker's `startApp` does: the files package.json
 * `main` names (a glob), then the `appStart` hooks, then the capabilities the
 * model adds (`HttpUri` when the app enabled HTTP streams: the model's HTTP
 * proxy, where the host forwards requests). An invocation is the
 * worker's `InvocationHandler`: the model turns the host's invocation request
 * into the handler's arguments, the `preInvocation` hooks run, then the
 * handler, then the `postInvocation` hooks, and the model turns the result into
 * the invocation response the host reads. `appTerminate` hooks run on a
 * graceful shutdown. The host's side (HTTP, queues, timers) is in runner.ts and
 * triggers.ts; nothing here converts a request or a response itself.
 */
import { readFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { glob } from "tinyglobby";

// ---------------------------------------------------------------- the RPC shapes (types-core/index.d.ts)

export type RpcLogLevel = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";
export type RpcLogCategory = "user" | "system" | "customMetric";

export interface RpcNullableString {
  value?: string | null;
}

export interface RpcHttpCookie {
  name?: string | null;
  value?: string | null;
  domain?: RpcNullableString | null;
  path?: RpcNullableString | null;
  expires?: { value?: { seconds?: number | null; nanos?: number | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: "none" | "lax" | "strict" | "explicitNone" | null;
  maxAge?: { value?: number | null } | null;
}

export interface RpcHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  body?: RpcTypedData | null;
  params?: Record<string, string> | null;
  statusCode?: string | null;
  query?: Record<string, string> | null;
  enableContentNegotiation?: boolean | null;
  rawBody?: RpcTypedData | null;
  cookies?: RpcHttpCookie[] | null;
  nullableHeaders?: Record<string, RpcNullableString> | null;
  nullableParams?: Record<string, RpcNullableString> | null;
  nullableQuery?: Record<string, RpcNullableString> | null;
}

export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  stream?: Uint8Array | null;
  http?: RpcHttpData | null;
  int?: number | null;
  double?: number | null;
  collectionBytes?: { bytes?: Uint8Array[] | null } | null;
  collectionString?: { string?: string[] | null } | null;
  collectionDouble?: { double?: number[] | null } | null;
  collectionSint64?: { sint64?: number[] | null } | null;
}

export interface RpcParameterBinding {
  name?: string | null;
  data?: RpcTypedData | null;
}

/** What the host sends the worker for one invocation (gRPC `InvocationRequest`). */
export interface RpcInvocationRequest {
  invocationId: string;
  functionId: string;
  inputData: RpcParameterBinding[];
  triggerMetadata: Record<string, RpcTypedData>;
  traceContext?: { traceParent?: string; traceState?: string; attributes?: Record<string, string> };
  retryContext?: { retryCount: number; maxRetryCount: number };
}

/** What the worker answers (gRPC `InvocationResponse`, without the status the host derives from a throw). */
export interface RpcInvocationResponse {
  invocationId?: string | null;
  outputData?: RpcParameterBinding[] | null;
  returnValue?: RpcTypedData | null;
}

export interface BindingMetadata {
  readonly type: string;
  readonly direction: "in" | "out" | "inout";
  readonly name: string;
  readonly [key: string]: unknown;
}

type FunctionCallback = (...args: unknown[]) => unknown;
type HookCallback = (context: object) => unknown;

interface CoreFunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, Omit<BindingMetadata, "name">>;
  retryOptions?: unknown;
}

interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: object;
  state?: "preInvocationHooks" | "postInvocationHooks" | "invocation";
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: CoreInvocationContext): InvocationModel | Promise<InvocationModel>;
  getCapabilities?(capabilities: Record<string, string>): Record<string, string> | Promise<Record<string, string>>;
}

export interface RegisteredFunction {
  readonly name: string;
  readonly functionId: string;
  /** Every binding by name, with its name in it. */
  readonly bindings: Readonly<Record<string, BindingMetadata>>;
  readonly trigger: BindingMetadata;
  readonly handler: FunctionCallback;
  /** What the worker keeps and hands the model on each invocation (its `RpcFunctionMetadata`). */
  readonly metadata: object;
}

/** Where the worker's logs go: user logs of the handlers, and the worker's own (system) logs. */
export type WorkerLog = (level: RpcLogLevel, message: string) => void;

// ---------------------------------------------------------------- the worker's state (AppContext)

/** The worker's own error types: the library recognises them by `isAzureFunctionsSystemError`. */
class AzFuncSystemError extends Error {
  isAzureFunctionsSystemError = true;
}
class AzFuncRangeError extends RangeError {
  isAzureFunctionsSystemError = true;
}
class ReadOnlyError extends TypeError {
  isAzureFunctionsSystemError = true;
  constructor(propertyName: string) {
    super(`Cannot assign to read only property '${propertyName}'`);
  }
}

class Disposable {
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((d) => d.dispose()));
  }
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): unknown {
    const call = this.#callOnDispose;
    this.#callOnDispose = undefined;
    return call?.();
  }
}

const app = {
  root: undefined as string | undefined,
  functions: new Map<string, RegisteredFunction>(),
  programmingModel: undefined as ProgrammingModel | undefined,
  hooks: {
    preInvocation: [] as HookCallback[],
    postInvocation: [] as HookCallback[],
    appStart: [] as HookCallback[],
    appTerminate: [] as HookCallback[],
  },
  /** Shared by every hook, app-level and invocation-level. */
  appHookData: {} as Record<string, unknown>,
  /** Shared by the app-level hooks only. */
  appLevelOnlyHookData: {} as Record<string, unknown>,
  indexingLocked: false,
  /** The worker's HttpUri capability: where its model takes forwarded HTTP requests (HTTP streams), if anywhere. */
  httpUri: undefined as string | undefined,
  currentEntryPoint: undefined as string | undefined,
  log: ((level, message) => {
    if (level === "error" || level === "warning" || level === "critical") console.error(`[${level}] ${message}`);
  }) as WorkerLog,
};

function hooksNamed(name: string): HookCallback[] {
  if (name in app.hooks) return app.hooks[name as keyof typeof app.hooks];
  // The worker's own refusal: the library turns it into "Log hooks require Azure Functions Host v4.34 or higher".
  throw new AzFuncRangeError(`Unrecognized hook "${name}"`);
}

async function executeHooks(name: keyof typeof app.hooks, context: object): Promise<void> {
  for (const callback of hooksNamed(name)) await callback(context);
}

/** A hook context as the worker builds them: `hookData`, `appHookData` and `invocationContext` cannot be replaced. */
function hookContext<T extends object>(
  readOnly: Record<string, unknown>,
  writable: T,
): T & { readonly hookData: Record<string, unknown> } {
  const context = { ...writable };
  for (const [name, value] of Object.entries(readOnly)) {
    Object.defineProperty(context, name, {
      enumerable: true,
      get: () => value,
      set: () => {
        throw new ReadOnlyError(name);
      },
    });
  }
  return context as T & { readonly hookData: Record<string, unknown> };
}

// ---------------------------------------------------------------- @azure/functions-core

const CORE_MODULE = "@azure/functions-core";

const coreApi = {
  version: "3.9.1-local",
  hostVersion: "4.1037.0-local",
  registerHook(name: string, callback: HookCallback): Disposable {
    const list = hooksNamed(name);
    list.push(callback);
    return new Disposable(() => {
      const at = list.indexOf(callback);
      if (at >= 0) list.splice(at, 1);
    });
  },
  setProgrammingModel(model: ProgrammingModel): void {
    if (app.programmingModel) {
      app.log("information", `Setting Node.js programming model to "${model.name}" version "${model.version}"`);
    }
    app.programmingModel = model;
  },
  getProgrammingModel: () => app.programmingModel,
  log(level: RpcLogLevel, _category: RpcLogCategory, message: string): void {
    app.log(level, message);
  },
  registerFunction(metadata: CoreFunctionMetadata, callback: FunctionCallback): Disposable {
    if (app.indexingLocked) throw new AzFuncSystemError("A function can only be registered during app startup.");
    const functionId = metadata.functionId || metadata.name;
    if (app.functions.has(functionId)) {
      throw new AzFuncSystemError(`A function with id "${functionId}" has already been registered.`);
    }
    const bindings = Object.fromEntries(
      Object.entries(metadata.bindings).map(([name, binding]) => [name, { ...binding, name }]),
    ) as Record<string, BindingMetadata>;
    const trigger = Object.values(bindings).find((b) => /trigger$/i.test(b.type));
    if (!trigger) throw new AzFuncSystemError(`Function ${metadata.name} has no trigger.`);
    const entryPoint = app.currentEntryPoint;
    app.functions.set(functionId, {
      name: metadata.name,
      functionId,
      bindings,
      trigger,
      handler: callback,
      metadata: {
        ...metadata,
        functionId,
        rawBindings: Object.entries(metadata.bindings).map(([name, binding]) => JSON.stringify({ ...binding, name })),
        scriptFile: entryPoint ? basename(entryPoint) : "unknown",
        ...(entryPoint ? { directory: dirname(entryPoint) } : {}),
      },
    });
    return new Disposable(() => {
      if (app.indexingLocked) throw new AzFuncSystemError("A function can only be disposed during app startup.");
      app.functions.delete(functionId);
    });
  },
  Disposable,
};

let coreInstalled = false;

/** Makes `require("@azure/functions-core")` answer the worker's API, as the worker's setupCoreModule does. */
function installCoreModule(): void {
  if (coreInstalled) return;
  coreInstalled = true;
  const prototype = Module.prototype as unknown as { require: (id: string) => unknown };
  prototype.require = new Proxy(prototype.require, {
    apply(target, thisArg, args: [string]) {
      if (args[0] === CORE_MODULE) return coreApi;
      const loaded: unknown = Reflect.apply(target, thisArg, args);
      return loaded;
    },
  });
}

// ---------------------------------------------------------------- startApp, workerInit, functionsMetadata

/** What the worker tells the host it can do (getWorkerCapabilities); the model may add to it. */
const WORKER_CAPABILITIES: Readonly<Record<string, string>> = {
  RawHttpBodyBytes: "true",
  RpcHttpTriggerMetadataRemoved: "true",
  RpcHttpBodyOnly: "true",
  IgnoreEmptyValuedRpcHttpHeaders: "true",
  UseNullableValueDictionaryForHttp: "true",
  WorkerStatus: "true",
  TypedDataCollection: "true",
  HandlesWorkerTerminateMessage: "true",
};

/** Sends the worker's logs somewhere other than stderr (the runner's log, a test's). */
export function setWorkerLog(log: WorkerLog): void {
  app.log = log;
}

/**
 * Loads the app at `root` as the worker does (one app per process): the files package.json `main` names, then the
 * `appStart` hooks, then the capabilities the model asks for; after that no function can be registered.
 */
export async function loadFunctionApp(root: string): Promise<readonly RegisteredFunction[]> {
  const appRoot = resolve(root);
  if (app.root !== undefined) {
    if (app.root !== appRoot) throw new Error(`This process already runs the app at ${app.root}.`);
    return [...app.functions.values()];
  }
  app.root = appRoot;
  installCoreModule();
  const pkg = JSON.parse(readFileSync(join(appRoot, "package.json"), "utf8")) as { main?: string; type?: string };
  const pattern = pkg.main ?? "index.js";
  const files = await glob(pattern, { cwd: appRoot });
  if (files.length === 0) {
    throw new AzFuncSystemError(
      `Worker was unable to load entry point "${pattern}": ${/[*?{}[\]]/.test(pattern) ? "Found zero files matching the supplied pattern" : "File does not exist"} (run npm run build).`,
    );
  }
  const requireFrom = createRequire(import.meta.url);
  for (const file of files) {
    const path = join(appRoot, file);
    app.currentEntryPoint = path;
    try {
      const esm = path.endsWith(".mjs") || (!path.endsWith(".cjs") && pkg.type === "module");
      if (esm) await import(pathToFileURL(path).href);
      else requireFrom(path);
    } catch (error) {
      if (error instanceof Error) error.message = `Worker was unable to load entry point "${file}": ${error.message}`;
      throw error;
    } finally {
      app.currentEntryPoint = undefined;
    }
  }
  await executeHooks(
    "appStart",
    hookContext(
      { hookData: app.appLevelOnlyHookData, appHookData: app.appHookData },
      { functionAppDirectory: appRoot },
    ),
  );
  const capabilities = app.programmingModel?.getCapabilities
    ? await app.programmingModel.getCapabilities({ ...WORKER_CAPABILITIES })
    : WORKER_CAPABILITIES;
  // HTTP streams (app.setup({ enableHttpStream: true })): the model started its HTTP proxy; the host forwards each
  // HTTP request there (runner.ts) instead of sending it in the invocation request.
  app.httpUri =
    typeof capabilities.HttpUri === "string" && capabilities.HttpUri !== "" ? capabilities.HttpUri : undefined;
  app.indexingLocked = true;
  if (app.functions.size === 0) throw new AzFuncSystemError("No job functions found.");
  return [...app.functions.values()];
}

/** The worker's HttpUri capability once the app is loaded: set when the app enabled HTTP streams. */
export function workerHttpUri(): string | undefined {
  return app.httpUri;
}

// ---------------------------------------------------------------- InvocationHandler

/**
 * Runs one invocation as the worker's InvocationHandler does and returns the invocation response; a handler that
 * throws (or whose postInvocation hooks leave an error) makes this throw, which the host reads as a failed invocation.
 */
export async function invokeFunction(
  fn: RegisteredFunction,
  request: RpcInvocationRequest,
): Promise<RpcInvocationResponse> {
  const model = app.programmingModel;
  if (!model) throw new AzFuncSystemError("No programming model is registered: the app never loaded @azure/functions.");
  const coreCtx: CoreInvocationContext = {
    invocationId: request.invocationId,
    request,
    metadata: fn.metadata,
    state: undefined,
    log: (level, category, message) =>
      app.log(level, `[${fn.name}]${category === "system" ? " (worker)" : ""} ${message}`),
  };
  const invocationModel = await model.getInvocationModel(coreCtx);
  const hookData: Record<string, unknown> = {};
  const { context, inputs } = await invocationModel.getArguments();
  const shared = { hookData, appHookData: app.appHookData, invocationContext: context };

  // With no hooks registered (the usual case) nothing could see the hook contexts: none is built.
  let callInputs = inputs;
  let callback = fn.handler;
  if (app.hooks.preInvocation.length > 0) {
    const pre = hookContext(shared, { inputs, functionCallback: fn.handler });
    coreCtx.state = "preInvocationHooks";
    try {
      await executeHooks("preInvocation", pre);
    } finally {
      coreCtx.state = undefined;
    }
    callInputs = pre.inputs;
    callback = pre.functionCallback;
  }

  const post = { inputs: callInputs, result: null as unknown, error: null as unknown };
  coreCtx.state = "invocation";
  try {
    post.result = await invocationModel.invokeFunction(context, callInputs, callback);
  } catch (error) {
    post.error = error;
  } finally {
    coreCtx.state = undefined;
  }

  if (app.hooks.postInvocation.length > 0) {
    const hooked = hookContext<{ inputs: unknown[]; result: unknown; error: unknown }>(shared, post);
    coreCtx.state = "postInvocationHooks";
    try {
      await executeHooks("postInvocation", hooked);
    } finally {
      coreCtx.state = undefined;
    }
    post.result = hooked.result;
    post.error = hooked.error;
  }
  // As the worker's ensureErrorType: whatever was thrown becomes an Error.
  const error = post.error;
  if (error instanceof Error) throw error;
  if (error !== null && error !== undefined) {
    throw new Error(typeof error === "string" ? error : JSON.stringify(error));
  }
  return invocationModel.getResponse(context, post.result);
}

/** Runs the app's `appTerminate` hooks, as the worker does when the host ends it gracefully. */
export async function terminateApp(): Promise<void> {
  await executeHooks(
    "appTerminate",
    hookContext({ hookData: app.appLevelOnlyHookData, appHookData: app.appHookData }, {}),
  );
}

/** The host's route prefix, from host.json. */
export function routePrefix(projectRoot: string): string {
  const host = JSON.parse(readFileSync(join(projectRoot, "host.json"), "utf8")) as {
    extensions?: { http?: { routePrefix?: string } };
  };
  return host.extensions?.http?.routePrefix ?? "api";
}
