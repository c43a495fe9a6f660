// Prototype: compile the AJV validators to standalone code at build time, so a
// cold start neither loads ajv's compiler nor compiles schemas. Run on a COPY of
// the app: writes <app>/dist/shared/operations/schema.validators.js and rewrites
// <app>/dist/shared/operations/schema.js to import it. Schemas compiled at run time
// through compileSchema() (the queue envelope) are found by loading every module of
// dist/shared once, and looked up by their JSON text.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv, _ } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";

const AJV_SETUP = [
  /^import \{ Ajv \} from "ajv";\n/m,
  /^import addFormatsModule from "ajv-formats";\n/m,
  /^const addFormats = [^\n]*\n/m,
  /^const ajv = new Ajv\([^\n]*\n/m,
  /^addFormats\(ajv[^\n]*\n/m,
  /^ajv\.addFormat\("graph-date-time"[^\n]*\n/m,
  /^const validateCreate = ajv\.compile[^\n]*\n/m,
  /^const validateUpdate = ajv\.compile[^\n]*\n/m,
];
const COMPILE_SCHEMA = "    return ajv.compile(schema);\n";

function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : [],
  );
}

export async function applyAjvStandalone(appRoot) {
  const dir = join(appRoot, "dist/shared/operations");
  const schemaFile = join(dir, "schema.js");
  const original = readFileSync(schemaFile, "utf8");
  if (AJV_SETUP.some((re) => !re.test(original))) throw new Error("schema.js no longer has the expected shape");
  // 1. Record what compileSchema() is given while every shared module loads once.
  const hasCompileSchema = original.includes(COMPILE_SCHEMA);
  if (hasCompileSchema) {
    writeFileSync(
      schemaFile,
      original.replace(COMPILE_SCHEMA, `    (globalThis.__benchSchemas ??= []).push(schema);\n${COMPILE_SCHEMA}`),
    );
  }
  const { createOperationSchema, updateOperationSchema } = await import(pathToFileURL(schemaFile).href);
  for (const file of modules(join(appRoot, "dist/shared"))) await import(pathToFileURL(file).href);
  const extra = globalThis.__benchSchemas ?? [];

  // 2. Generate the validators with the same options as shared/operations/schema.ts.
  const { formats } = await writeFormats(dir);
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    coerceTypes: false,
    useDefaults: false,
    code: { source: true, esm: true, formats: _`formats` },
  });
  for (const [name, format] of Object.entries(formats)) ajv.addFormat(name, format);
  ajv.addSchema(createOperationSchema).addSchema(updateOperationSchema);
  const refs = { validateCreate: "createOperation", validateUpdate: "updateOperation" };
  extra.forEach((schema, i) => {
    ajv.addSchema(schema, `extra${i}`);
    refs[`extra${i}`] = `extra${i}`;
  });
  const code = standaloneCode.default(ajv, refs);
  // ESM imports for the runtime helpers the generated code require()s, so a bundler can inline them.
  const imports = [`import { formats } from "./schema.formats.js";`];
  const esm = code.replace(/require\("(ajv\/dist\/runtime\/[a-z0-9]+)"\)/g, (_m, path) => {
    const name = `runtime${imports.length}`;
    imports.push(`import ${name} from "${path}.js";`);
    return name;
  });
  const table = extra.map((schema, i) => `[${JSON.stringify(JSON.stringify(schema))}, extra${i}]`).join(", ");
  writeFileSync(
    join(dir, "schema.validators.js"),
    `${imports.join("\n")}\n${esm}\nexport const precompiled = new Map([${table}]);\n`,
  );

  // 3. schema.js imports them instead of compiling.
  let source = original;
  for (const re of AJV_SETUP) source = source.replace(re, "");
  if (hasCompileSchema) {
    source = source.replace(
      COMPILE_SCHEMA,
      `    const v = precompiled.get(JSON.stringify(schema));\n` +
        `    if (!v) throw new Error("schema not precompiled");\n    return v;\n`,
    );
  }
  if (/\bajv\./.test(source)) throw new Error("schema.js still uses ajv after the rewrite");
  writeFileSync(
    schemaFile,
    `import { validateCreate, validateUpdate, precompiled } from "./schema.validators.js";\n${source}`,
  );
}

/** The formats the schemas use, as a module the generated code imports. */
async function writeFormats(dir) {
  const file = join(dir, "schema.formats.js");
  writeFileSync(
    file,
    [
      `import { fullFormats } from "ajv-formats/dist/formats.js";`,
      `import { toCanonicalUtc } from "./timestamps.js";`,
      `export const formats = {`,
      `  "date-time": fullFormats["date-time"],`,
      `  "graph-date-time": { type: "string", validate: (value) => toCanonicalUtc(value) !== undefined },`,
      `};`,
      ``,
    ].join("\n"),
  );
  return import(pathToFileURL(file).href);
}
