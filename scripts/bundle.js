// Bundles the built app (dist/, from `npm run build`) into one deployable folder,
// dist-bundle/: the entry file and every function file in the order the host's
// `main` glob loads them, with every dependency inlined, so the deployment needs no
// node_modules. Only `@azure/functions-core` stays external: the Functions worker
// provides it. Dynamic imports (e.g. @azure/identity, used only with managed
// identity) become separate chunks, loaded when first needed.
//
//   npm run build && node scripts/bundle.js [outdir] [appRoot]
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const repo = resolve(import.meta.dirname, "..");
const root = resolve(process.argv[3] ?? repo);
const outdir = resolve(repo, process.argv[2] ?? "dist-bundle");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const { expandMainGlob } = await import(pathToFileURL(join(root, "dist/local/functionsHost.js")).href);

const files = expandMainGlob(root, pkg.main);
if (files.length === 0) throw new Error(`package.json main (${pkg.main}) matched no files: run npm run build.`);

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  stdin: {
    contents: files.map((file) => `import ${JSON.stringify(`./${relative(root, file)}`)};`).join("\n"),
    resolveDir: root,
    sourcefile: "main.js",
  },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir,
  entryNames: "index",
  chunkNames: "chunks/[name]-[hash]",
  external: ["@azure/functions-core"],
  minify: true,
  legalComments: "linked",
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: `import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);` },
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
const outputs = Object.entries(result.metafile.outputs).filter(([name]) => name.endsWith(".js"));
for (const [name, output] of outputs) console.log(`${relative(repo, name)}  ${(output.bytes / 1024).toFixed(0)} KiB`);
