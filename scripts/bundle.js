// Bundles the built app (dist/, from tsc) into the folder that is deployed and run,
// dist-bundle/: the entry file and every function file, in the order the host's glob
// would load them, with every dependency inlined, so the deployment needs no
// node_modules. Only `@azure/functions-core` stays external: the Functions worker
// provides it. Dynamic imports (the telemetry pipeline, loaded only when a connection
// string is set; `@azure/identity`, only with managed identity) become chunks loaded
// when first needed. `npm run build` runs this after tsc; package.json `main` names the
// bundle, so `npm start`, the tests, `func start` and the deployment all run it.
//
//   node scripts/bundle.js    (after tsc -p tsconfig.build.json)
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { globSync } from "tinyglobby";

/** The app's modules in dist/, as a Functions `main` glob: the entry first, then every function file. */
const APP_MODULES = "dist/{index.js,functions/*.js}";

const root = resolve(import.meta.dirname, "..");
const outdir = join(root, "dist-bundle");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// The entry first (the glob's order is not), then every function file in name order.
const files = globSync(APP_MODULES, { cwd: root })
  .sort((a, b) => Number(b === "dist/index.js") - Number(a === "dist/index.js") || a.localeCompare(b))
  .map((file) => join(root, file));
if (files.length === 0) throw new Error(`${APP_MODULES} matched no files: run tsc -p tsconfig.build.json first.`);

/**
 * OpenTelemetry's packages name their CommonJS build in `main` and their ES module build in `module`, without an
 * `exports` map, so esbuild (platform node) would take the CommonJS one: every module of it evaluated at load, none
 * shaken out. This takes the ES module build, as esbuild does for packages whose `exports` offer one.
 */
const openTelemetryModules = {
  name: "opentelemetry-esm",
  setup(build) {
    build.onResolve({ filter: /^@opentelemetry\/[^/]+$/ }, async (args) => {
      if (args.pluginData === "opentelemetry-esm") return undefined;
      const { kind, importer, resolveDir } = args;
      const resolved = await build.resolve(args.path, { kind, importer, resolveDir, pluginData: "opentelemetry-esm" });
      if (resolved.errors.length > 0) return resolved;
      let dir = dirname(resolved.path);
      while (!dir.endsWith(`node_modules/${args.path}`) && dir !== dirname(dir)) dir = dirname(dir);
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      return manifest.exports || !manifest.module ? resolved : { path: join(dir, manifest.module) };
    });
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  stdin: {
    contents: files.map((file) => `import ${JSON.stringify(`./${relative(root, file)}`)};`).join("\n"),
    resolveDir: root,
    sourcefile: "main.js",
  },
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22",
  outdir,
  entryNames: "index",
  chunkNames: "chunks/[name]-[hash]",
  external: ["@azure/functions-core"],
  plugins: [openTelemetryModules],
  minify: true,
  // Readable names in stack traces (exceptions reach Application Insights as they are thrown).
  keepNames: true,
  legalComments: "linked",
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  // CommonJS dependencies call require() and read __dirname / __filename; give every output file them.
  banner: {
    js: [
      `import { createRequire as __cr } from "node:module";`,
      `import { fileURLToPath as __fu } from "node:url";`,
      `import { dirname as __dn } from "node:path";`,
      `const require = __cr(import.meta.url), __filename = __fu(import.meta.url), __dirname = __dn(__filename);`,
    ].join(" "),
  },
});

writeFileSync(
  join(outdir, "package.json"),
  JSON.stringify(
    { name: pkg.name, version: pkg.version, private: true, type: "module", main: "index.js", engines: pkg.engines },
    null,
    2,
  ) + "\n",
);
copyFileSync(join(root, "host.json"), join(outdir, "host.json"));
// The source maps (15 MB) help locally; the deployment (azd and Core Tools honour .funcignore) leaves them out.
writeFileSync(join(outdir, ".funcignore"), "*.map\n");
// What went into which output, for tests that check what a cold start loads (dist/ is not deployed).
writeFileSync(join(root, "dist/bundle-meta.json"), JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
const total = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const entry = outputs.find(([name]) => name.endsWith("index.js"));
console.log(
  `${relative(root, outdir)}: ${outputs.length} modules, ${(total / 1024).toFixed(0)} KiB ` +
    `(entry ${((entry?.[1].bytes ?? 0) / 1024).toFixed(0)} KiB, the rest loaded on demand)`,
);
