/**
 * Evaluates a compiled ARM template for given parameter values, the way
 * Resource Manager would at the start of a deployment, far enough for the
 * tests: which resources and modules a deployment creates (their
 * `condition`), and what their properties come to, following module
 * parameters down and module outputs back up. Runtime values (an identity's
 * principal id, a connection string) stay opaque: `Runtime` objects that
 * print as the expression they stand for. uniqueString() and guid() are
 * stand-ins (a hash of their arguments): equal inputs give equal outputs,
 * which is all a test can rely on anyway.
 */
import { createHash } from "node:crypto";
import type { ArmResource, ArmTemplate, Json } from "./bicep.js";

/** A value known only while deploying. */
export class Runtime {
  constructor(readonly text: string) {}
  toString(): string {
    return `⟨${this.text}⟩`;
  }
}

/** A deployment the template itself refuses (its fail() function), with the template's message. */
export class DeploymentFailed extends Error {
  override readonly name = "DeploymentFailed";
}

/** The fixed deployment environment of an evaluation. */
export const ENVIRONMENT = {
  subscriptionId: "00000000-0000-0000-0000-00000000aaaa",
  tenantId: "00000000-0000-0000-0000-00000000bbbb",
  cloud: {
    name: "AzureCloud",
    suffixes: { storage: "core.windows.net" },
    authentication: { loginEndpoint: "https://login.microsoftonline.com/" },
  },
} as const;

// ---------------------------------------------------------------- parsing

export type Expr =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number }
  | { kind: "call"; name: string; args: Expr[] }
  | { kind: "member"; object: Expr; property: string }
  | { kind: "index"; object: Expr; index: Expr };

/** Whether a template string is an expression ("[...]", not the "[[" escape). */
export function isExpression(value: unknown): value is string {
  return typeof value === "string" && value.startsWith("[") && value.endsWith("]") && !value.startsWith("[[");
}

export function parseExpression(text: string): Expr {
  const source = isExpression(text) ? text.slice(1, -1) : text;
  let i = 0;
  const space = () => {
    while (source[i] === " ") i++;
  };
  const fail = (what: string): never => {
    throw new Error(`ARM expression: ${what} at ${i} in ${text}`);
  };
  const primary = (): Expr => {
    space();
    const ch = source[i];
    if (ch === "'") {
      let value = "";
      for (i++; ; i++) {
        if (i >= source.length) fail("unterminated string");
        if (source[i] === "'") {
          if (source[i + 1] === "'") {
            value += "'";
            i++;
            continue;
          }
          i++;
          return { kind: "string", value };
        }
        value += source[i];
      }
    }
    const number = /^-?\d+/.exec(source.slice(i));
    if (number) {
      i += number[0].length;
      return { kind: "number", value: Number(number[0]) };
    }
    const name = /^[A-Za-z_][\w.]*/.exec(source.slice(i));
    if (!name) return fail("expected a value");
    i += name[0].length;
    space();
    if (source[i] !== "(") return fail(`expected ( after ${name[0]}`);
    i++;
    const args: Expr[] = [];
    space();
    if (source[i] === ")") {
      i++;
    } else {
      for (;;) {
        args.push(expression());
        space();
        if (source[i] === ",") {
          i++;
          continue;
        }
        if (source[i] === ")") {
          i++;
          break;
        }
        fail("expected , or )");
      }
    }
    return { kind: "call", name: name[0].toLowerCase(), args };
  };
  const expression = (): Expr => {
    let node = primary();
    for (;;) {
      space();
      if (source[i] === ".") {
        i++;
        const property = /^\w+/.exec(source.slice(i))?.[0] ?? fail("expected a property name");
        i += property.length;
        node = { kind: "member", object: node, property };
      } else if (source[i] === "[") {
        i++;
        const index = expression();
        space();
        if (source[i] !== "]") fail("expected ]");
        i++;
        node = { kind: "index", object: node, index };
      } else {
        return node;
      }
    }
  };
  const result = expression();
  space();
  if (i !== source.length) fail("unexpected text");
  return result;
}

/** The expression a property holds, parsed (for asserting on its structure). */
export function expressionOf(value: unknown): Expr | undefined {
  return isExpression(value) ? parseExpression(value) : undefined;
}

// ---------------------------------------------------------------- evaluation

/** Where an expression is evaluated: a template, the values of its parameters, and its deployment's context. */
export interface Scope {
  readonly template: ArmTemplate;
  /** The deployment (module) resource whose template this is, and the scope that declared it. */
  readonly deployment: { resource: ArmResource; parent: Scope } | undefined;
  readonly parameters: Record<string, unknown>;
  readonly resourceGroup: unknown;
  /** The indexes of the copy loops being expanded: "" for the resource's own, else the property loop's name. */
  readonly copyIndexes?: Readonly<Record<string, number>>;
  /** The values of the lambda variables in scope. */
  readonly lambdaVariables?: Readonly<Record<string, unknown>>;
}

/** A lambda(...) value: called by map, filter, toObject and the like. */
class Lambda {
  constructor(
    readonly names: readonly string[],
    readonly body: Expr,
    readonly scope: Scope,
  ) {}
  call(...values: unknown[]): unknown {
    const bound = Object.fromEntries(this.names.map((n, i) => [n, values[i]]));
    return evaluateExpr(this.body, { ...this.scope, lambdaVariables: { ...this.scope.lambdaVariables, ...bound } });
  }
}

const hash = (parts: unknown[]) =>
  createHash("sha256")
    .update(JSON.stringify(parts, (_k, v: unknown) => (v instanceof Runtime ? v.toString() : v)))
    .digest("hex");

const isRuntime = (v: unknown): v is Runtime => v instanceof Runtime;

function entries(template: ArmTemplate): [string, ArmResource][] {
  return Array.isArray(template.resources)
    ? (template.resources as ArmResource[]).map((r, i) => [String(i), r])
    : Object.entries(template.resources);
}

/** The top-level scope of a subscription deployment with these parameter values (defaults for the rest). */
export function topScope(template: ArmTemplate, parameters: Record<string, unknown>): Scope {
  const scope: Scope = { template, deployment: undefined, parameters: {}, resourceGroup: undefined };
  for (const [name, p] of Object.entries(template.parameters ?? {})) {
    scope.parameters[name] = name in parameters ? parameters[name] : evaluate(p.defaultValue, scope);
  }
  for (const name of Object.keys(parameters)) {
    if (!(name in (template.parameters ?? {}))) throw new Error(`the template has no parameter ${name}`);
  }
  return scope;
}

/** The scope of a module deployment's template, its parameters evaluated where the module is declared. */
export function moduleScope(resource: ArmResource, parent: Scope): Scope {
  const template = resource.properties?.template as ArmTemplate;
  // Each passed parameter is { value: ... }, or an expression that evaluates to one.
  const passed = (resource.properties?.parameters ?? {}) as Record<string, unknown>;
  const scope: Scope = {
    template,
    deployment: { resource, parent },
    parameters: {},
    resourceGroup: evaluate((resource as Json).resourceGroup, parent) ?? parent.resourceGroup,
  };
  for (const [name, p] of Object.entries(template.parameters ?? {})) {
    scope.parameters[name] =
      name in passed ? (evaluate(passed[name], parent) as { value?: unknown }).value : evaluate(p.defaultValue, scope);
  }
  return scope;
}

/** Evaluates a template value: JSON with expressions in its strings. */
export function evaluate(value: unknown, scope: Scope): unknown {
  if (isExpression(value)) return evaluateExpr(parseExpression(value), scope);
  if (typeof value === "string" && value.startsWith("[[")) return value.slice(1);
  if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
  if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    const evaluated = Object.fromEntries(
      Object.entries(object)
        .filter(([k]) => k !== "copy" || !Array.isArray(object.copy))
        .map(([k, v]) => [k, evaluate(v, scope)]),
    );
    // A property loop ("copy": [{ name, count, input }]) makes the property named by each loop.
    if (Array.isArray(object.copy)) {
      for (const loop of object.copy as { name: string; count: unknown; input: unknown }[]) {
        const count = evaluate(loop.count, scope);
        if (isRuntime(count)) {
          evaluated[loop.name] = new Runtime(`copy ${loop.name}`);
          continue;
        }
        evaluated[loop.name] = Array.from({ length: Number(count) }, (_, i) =>
          evaluate(loop.input, { ...scope, copyIndexes: { ...scope.copyIndexes, [loop.name]: i } }),
        );
      }
    }
    return evaluated;
  }
  return value;
}

function resourceIdString(scope: Scope, args: unknown[], subscriptionLevel: boolean): unknown {
  if (args.some(isRuntime)) return new Runtime(`resourceId(${args.map(String).join(", ")})`);
  const strings = args as string[];
  // resourceId([subscriptionId, resourceGroupName,] type, name1, name2, ...)
  const typeAt = strings.findIndex((a) => a.includes("/"));
  const [namespace, ...types] = strings[typeAt]!.split("/");
  const names = strings.slice(typeAt + 1);
  const prefix = strings.slice(0, typeAt);
  const subscription = prefix.length === 2 || (subscriptionLevel && prefix.length === 1) ? prefix[0] : undefined;
  const group = prefix.length === 2 ? prefix[1] : prefix.length === 1 && !subscriptionLevel ? prefix[0] : undefined;
  const path = types.map((t, i) => `${t}/${names[i]}`).join("/");
  const sub = `/subscriptions/${subscription ?? ENVIRONMENT.subscriptionId}`;
  if (subscriptionLevel) return `${sub}/providers/${namespace}/${path}`;
  const rg = group ?? scope.resourceGroup;
  if (isRuntime(rg)) return new Runtime(`resourceId(${String(rg)}, ${strings.join(", ")})`);
  return `${sub}/resourceGroups/${String(rg)}/providers/${namespace}/${path}`;
}

/** Resolves reference('<symbol>'): a module's outputs are followed into its template; anything else is runtime. */
function reference(symbol: string, scope: Scope): unknown {
  const resource = entries(scope.template).find(([name]) => name === symbol)?.[1];
  if (resource?.type === "Microsoft.Resources/deployments" && resource.properties?.template) {
    const inner = moduleScope(resource, scope);
    const outputs = Object.fromEntries(
      Object.entries((resource.properties.template as ArmTemplate).outputs ?? {}).map(([name, o]) => [
        name,
        { value: evaluate(o.value, inner) },
      ]),
    );
    return { outputs };
  }
  return new Runtime(`reference('${symbol}')`);
}

function member(object: unknown, key: unknown): unknown {
  if (isRuntime(object)) return new Runtime(`${object.text}.${String(key)}`);
  if (object === null || object === undefined) throw new Error(`property ${String(key)} of ${String(object)}`);
  return (object as Record<string, unknown>)[key as string];
}

function evaluateExpr(node: Expr, scope: Scope): unknown {
  switch (node.kind) {
    case "string":
    case "number":
      return node.value;
    case "member":
      return member(evaluateExpr(node.object, scope), node.property);
    case "index":
      return member(evaluateExpr(node.object, scope), evaluateExpr(node.index, scope));
    case "call":
      return call(node, scope);
  }
}

function call(node: Extract<Expr, { kind: "call" }>, scope: Scope): unknown {
  const lazy = node.args;
  const arg = (i: number) => evaluateExpr(lazy[i]!, scope);
  const all = () => lazy.map((a) => evaluateExpr(a, scope));
  switch (node.name) {
    case "parameters": {
      const name = arg(0) as string;
      if (!(name in scope.parameters)) throw new Error(`no parameter ${name}`);
      return scope.parameters[name];
    }
    case "variables": {
      const name = arg(0) as string;
      const variables = scope.template.variables ?? {};
      if (!(name in variables)) throw new Error(`no variable ${name}`);
      return evaluate(variables[name], scope);
    }
    case "if": {
      const condition = arg(0);
      if (isRuntime(condition)) return new Runtime(`if(${String(condition)}, ...)`);
      return condition ? arg(1) : arg(2);
    }
    case "not": {
      const v = arg(0);
      return isRuntime(v) ? new Runtime(`not(${String(v)})`) : !v;
    }
    case "and":
    case "or": {
      const values = all();
      if (values.some(isRuntime)) return new Runtime(`${node.name}(${values.map(String).join(", ")})`);
      return node.name === "and" ? values.every(Boolean) : values.some(Boolean);
    }
    case "equals": {
      const [a, b] = all();
      if (isRuntime(a) || isRuntime(b)) return new Runtime(`equals(${String(a)}, ${String(b)})`);
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case "empty": {
      const v = arg(0);
      if (isRuntime(v)) return new Runtime(`empty(${String(v)})`);
      if (v === null || v === undefined || v === "") return true;
      if (Array.isArray(v)) return v.length === 0;
      return typeof v === "object" && Object.keys(v).length === 0;
    }
    case "null":
      return null;
    case "true":
      return true;
    case "false":
      return false;
    case "createobject": {
      const values = all();
      const object: Record<string, unknown> = {};
      for (let i = 0; i < values.length; i += 2) object[String(values[i])] = values[i + 1];
      return object;
    }
    case "createarray":
      return all();
    case "coalesce":
      return all().find((v) => v !== null && v !== undefined) ?? null;
    case "tryget": {
      let current = arg(0);
      for (const key of all().slice(1)) {
        if (current === null || current === undefined) return null;
        current = member(current, key);
      }
      return current ?? null;
    }
    case "format": {
      const [template, ...values] = all() as [string, ...unknown[]];
      const text = template.replace(/\{(\d+)\}/g, (_m, n: string) => String(values[Number(n)]));
      return values.some(isRuntime) ? new Runtime(text) : text;
    }
    case "concat": {
      const values = all();
      if (values.every(Array.isArray)) return (values as unknown[][]).flat();
      const text = values.map(String).join("");
      return values.some(isRuntime) ? new Runtime(text) : text;
    }
    case "string": {
      const v = arg(0);
      return typeof v === "string" || isRuntime(v) ? v : JSON.stringify(v);
    }
    case "tolower": {
      const v = arg(0);
      return isRuntime(v) ? new Runtime(`toLower(${String(v)})`) : String(v).toLowerCase();
    }
    case "replace": {
      const [v, from, to] = all();
      return isRuntime(v) ? new Runtime(`replace(${String(v)})`) : String(v).split(String(from)).join(String(to));
    }
    case "copyindex": {
      const name = lazy.length > 0 && typeof arg(0) === "string" ? (arg(0) as string) : "";
      const offset = lazy.length > 0 && typeof arg(lazy.length - 1) === "number" ? (arg(lazy.length - 1) as number) : 0;
      const index = scope.copyIndexes?.[name];
      if (index === undefined) throw new Error(`copyIndex('${name}') outside its loop`);
      return index + offset;
    }
    case "lambda": {
      const names = lazy.slice(0, -1).map((a) => evaluateExpr(a, scope) as string);
      return new Lambda(names, lazy.at(-1)!, scope);
    }
    case "lambdavariables": {
      const name = arg(0) as string;
      if (!scope.lambdaVariables || !(name in scope.lambdaVariables)) throw new Error(`no lambda variable ${name}`);
      return scope.lambdaVariables[name];
    }
    case "map":
    case "filter": {
      const [array, fn] = all() as [unknown, Lambda];
      if (isRuntime(array)) return new Runtime(`${node.name}(${String(array)})`);
      const items = array as unknown[];
      return node.name === "map" ? items.map((v, i) => fn.call(v, i)) : items.filter((v, i) => fn.call(v, i) === true);
    }
    case "toobject": {
      const [array, key, valueOf] = all() as [unknown, Lambda, Lambda | undefined];
      if (isRuntime(array)) return new Runtime(`toObject(${String(array)})`);
      return Object.fromEntries((array as unknown[]).map((v) => [String(key.call(v)), valueOf ? valueOf.call(v) : v]));
    }
    case "split": {
      const [text, separator] = all();
      if (isRuntime(text)) return new Runtime(`split(${String(text)})`);
      return String(text).split(String(separator));
    }
    case "trim": {
      const v = arg(0);
      return isRuntime(v) ? new Runtime(`trim(${String(v)})`) : String(v).trim();
    }
    case "length": {
      const v = arg(0);
      if (isRuntime(v)) return new Runtime(`length(${String(v)})`);
      if (typeof v === "string" || Array.isArray(v)) return v.length;
      return Object.keys(v as object).length;
    }
    case "max":
    case "min": {
      const values = all().flat();
      if (values.some(isRuntime)) return new Runtime(`${node.name}(...)`);
      return node.name === "max" ? Math.max(...(values as number[])) : Math.min(...(values as number[]));
    }
    case "greater": {
      const [a, b] = all();
      if (isRuntime(a) || isRuntime(b)) return new Runtime(`greater(${String(a)}, ${String(b)})`);
      return (a as number) > (b as number);
    }
    case "union": {
      const values = all();
      if (values.some(isRuntime)) return new Runtime("union(...)");
      if (values.every(Array.isArray)) return [...new Set((values as unknown[][]).flat())];
      return Object.assign({}, ...(values as object[]));
    }
    case "items": {
      const v = arg(0);
      if (isRuntime(v)) return new Runtime(`items(${String(v)})`);
      return Object.entries(v as object)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => ({ key, value }));
    }
    case "resourcegroup":
      return {
        id: `/subscriptions/${ENVIRONMENT.subscriptionId}/resourceGroups/${String(scope.resourceGroup)}`,
        name: scope.resourceGroup,
      };
    case "extensionresourceid": {
      const [parent, type, ...names] = all();
      if ([parent, type, ...names].some(isRuntime)) return new Runtime(`extensionResourceId(${String(parent)}, ...)`);
      const [namespace, ...types] = String(type).split("/");
      return `${String(parent)}/providers/${namespace}/${types.map((t, i) => `${t}/${String(names[i])}`).join("/")}`;
    }
    case "utcnow": {
      // A fixed instant, so that evaluations agree; the format is the one Bicep's budgets and the like use.
      const format = lazy.length > 0 ? (arg(0) as string) : "yyyyMMddTHHmmssZ";
      const now = new Date(Date.UTC(2026, 5, 15, 12, 0, 0));
      return format
        .replace("yyyy", String(now.getUTCFullYear()))
        .replace("MM", String(now.getUTCMonth() + 1).padStart(2, "0"))
        .replace("dd", String(now.getUTCDate()).padStart(2, "0"));
    }
    case "mod": {
      const [a, b] = all();
      if (isRuntime(a) || isRuntime(b)) return new Runtime(`mod(${String(a)}, ${String(b)})`);
      return Number(a) % Number(b);
    }
    case "contains": {
      const [container, item] = all();
      if (isRuntime(container) || isRuntime(item)) return new Runtime(`contains(${String(container)}, ...)`);
      if (Array.isArray(container)) return container.some((v) => JSON.stringify(v) === JSON.stringify(item));
      if (typeof container === "string") return container.includes(String(item));
      return Object.prototype.hasOwnProperty.call(container ?? {}, String(item));
    }
    case "fail":
      // What Resource Manager does with fail(): the deployment stops with the message.
      throw new DeploymentFailed(String(arg(0)));
    case "uniquestring":
      return hash(["uniqueString", ...all()]).slice(0, 13);
    case "guid": {
      const h = hash(["guid", ...all()]);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    }
    case "resourceid":
      return resourceIdString(scope, all(), false);
    case "subscriptionresourceid":
      return resourceIdString(scope, all(), true);
    case "subscription":
      return {
        id: `/subscriptions/${ENVIRONMENT.subscriptionId}`,
        subscriptionId: ENVIRONMENT.subscriptionId,
        tenantId: ENVIRONMENT.tenantId,
      };
    case "tenant":
      return { tenantId: ENVIRONMENT.tenantId };
    case "environment":
      return ENVIRONMENT.cloud;
    case "reference":
      return lazy.length === 1 ? reference(arg(0) as string, scope) : new Runtime(`reference(${all().join(", ")})`);
    default:
      return new Runtime(`${node.name}(${all().map(String).join(", ")})`);
  }
}

// ---------------------------------------------------------------- what a deployment creates

/** One resource a deployment with these parameters creates, its properties evaluated. */
export interface Deployed {
  readonly symbol: string;
  readonly resource: ArmResource;
  readonly scope: Scope;
  /** Names of the enclosing module deployments, outermost first. */
  readonly path: readonly string[];
  /** The resource's name, type and properties as Resource Manager would receive them. */
  readonly name: unknown;
  readonly type: string;
  properties(): Json;
  value(key: string): unknown;
}

/**
 * Every resource and module the deployment creates (condition true; `existing` references left out; a copy loop
 * as one entry per index), depth first.
 */
export function deployed(template: ArmTemplate, parameters: Record<string, unknown>): Deployed[] {
  const found: Deployed[] = [];
  const visit = (scope: Scope, path: string[]) => {
    for (const [symbol, resource] of entries(scope.template)) {
      if (resource.existing) continue;
      if (resource.condition !== undefined) {
        const condition = evaluate(resource.condition, scope);
        if (isRuntime(condition))
          throw new Error(`condition of ${symbol} is known only at run time: ${String(condition)}`);
        if (!condition) continue;
      }
      // A resource loop ("copy": { name, count }) is one resource per index, each evaluated with its copyIndex().
      const loop = (resource as Json).copy as { count: unknown } | undefined;
      const count = loop ? evaluate(loop.count, scope) : 1;
      if (isRuntime(count)) throw new Error(`the count of ${symbol} is known only at run time: ${String(count)}`);
      for (let i = 0; i < Number(count); i++) {
        const at: Scope = loop ? { ...scope, copyIndexes: { ...scope.copyIndexes, "": i } } : scope;
        const name = evaluate(resource.name, at);
        found.push({
          symbol,
          resource,
          scope: at,
          path,
          name,
          type: resource.type,
          properties: () => evaluate(resource.properties, at) as Json,
          value: (key: string) => evaluate((resource as Json)[key], at),
        });
        if (resource.type === "Microsoft.Resources/deployments" && resource.properties?.template) {
          visit(moduleScope(resource, at), [...path, String(name)]);
        }
      }
    }
  };
  visit(topScope(template, parameters), []);
  return found;
}

/**
 * The values azd passes for infra/main.parameters.json in an environment: `${NAME}` and `${NAME=default}`
 * substituted from `env` (unset and no default: empty), then converted to each parameter's declared type.
 */
export function azdParameters(
  file: { parameters: Record<string, { value: unknown }> },
  template: ArmTemplate,
  env: Record<string, string>,
): Record<string, unknown> {
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)(?:=([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) =>
      env[name] !== undefined && env[name] !== "" ? env[name] : (fallback ?? ""),
    );
  const out: Record<string, unknown> = {};
  for (const [name, { value }] of Object.entries(file.parameters)) {
    const text = typeof value === "string" ? substitute(value) : value;
    // A parameter of a user-defined type takes its type from the definition, as azd reads it.
    const declared = template.parameters?.[name];
    const definition = declared?.$ref?.split("/").at(-1);
    const type = (definition ? template.definitions?.[definition]?.type : declared?.type)?.toLowerCase();
    if (type === "bool" && typeof text === "string") {
      if (text !== "true" && text !== "false") throw new Error(`${name}: '${text}' is not a bool`);
      out[name] = text === "true";
    } else if (type === "int" && typeof text === "string") {
      if (!/^-?\d+$/.test(text)) throw new Error(`${name}: '${text}' is not an int`);
      out[name] = Number(text);
    } else {
      out[name] = text;
    }
  }
  return out;
}
