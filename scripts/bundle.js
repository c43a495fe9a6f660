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
import { join, relative, resolve } from "node:path";
import { build } from "esbuild";
import { globSync } from "tinyglobby";
import { bundleOptions } from "./bundle-options.js";

/** The bundle as it was, with esbuild's keepNames, for measuring what that costs (docs/benchmarks.md). */
const BUNDLE_VARIANTS = {
  keepNames: { keepNames: true },
};

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

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  stdin: {
    contents: files.map((file) => `import ${JSON.stringify(`./${relative(root, file)}`)};`).join("\n"),
    resolveDir: root,
    sourcefile: "main.js",
  },
  ...bundleOptions,
  ...(process.env.BUNDLE_VARIANT ? BUNDLE_VARIANTS[process.env.BUNDLE_VARIANT] : {}),
  absWorkingDir: root,
  splitting: true,
  outdir,
  entryNames: "index",
  chunkNames: "chunks/[name]-[hash]",
  legalComments: "linked",
  sourcemap: "linked",
  metafile: true,
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
