// The app as the bench loads it. The repository's package.json `main` names the
// bundle (dist-bundle/index.js), which is what runs and ships. The unbundled app is
// tsc's output as a function app folder of its own: a package.json whose `main` is
// the host's glob over dist/, host.json, and dist/ symlinked (so its modules resolve
// to the repository's node_modules, and to the same module instances as dist/). The
// streaming app is the bundle built again with HTTP streams enabled.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { globSync } from "tinyglobby";

export const repoRoot = new URL("..", import.meta.url).pathname;

export function unbundledApp() {
  const dir = mkdtempSync(join(tmpdir(), "teamops-unbundled-"));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "team-operations-api", type: "module", main: "dist/{index.js,functions/*.js}" }),
  );
  copyFileSync(join(repoRoot, "host.json"), join(dir, "host.json"));
  symlinkSync(join(repoRoot, "dist"), join(dir, "dist"), "dir");
  return { root: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The shipped bundle, built again with `app.setup({ enableHttpStream: true })` in its entry (the one change): the
 * app with HTTP streams, measured beside the app without them. A folder of its own, like the bundle's.
 */
export async function streamingApp() {
  const { build } = await import("esbuild");
  const { bundleOptions } = await import("../scripts/bundle-options.js");
  const dir = mkdtempSync(join(tmpdir(), "teamops-streams-"));
  const entry = join(repoRoot, "dist/index.js");
  const enableStreams = {
    name: "enable-http-streams",
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/]index\.js$/ }, async (args) => {
        if (args.path !== entry) return undefined;
        const source = readFileSync(entry, "utf8");
        const patched = source.replace("enableHttpStream: false", "enableHttpStream: true");
        if (patched === source) throw new Error("dist/index.js does not call app.setup({ enableHttpStream: false })");
        return { contents: patched, loader: "js", resolveDir: join(repoRoot, "dist") };
      });
    },
  };
  const files = globSync("dist/{index.js,functions/*.js}", { cwd: repoRoot }).sort(
    (a, b) => Number(b === "dist/index.js") - Number(a === "dist/index.js") || a.localeCompare(b),
  );
  await build({
    ...bundleOptions,
    plugins: [...bundleOptions.plugins, enableStreams],
    stdin: {
      contents: files.map((file) => `import ${JSON.stringify(`./${file}`)};`).join("\n"),
      resolveDir: repoRoot,
      sourcefile: "main.js",
    },
    absWorkingDir: repoRoot,
    splitting: true,
    outdir: dir,
    entryNames: "index",
    chunkNames: "chunks/[name]-[hash]",
    sourcemap: "linked",
  });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "team-operations-api", type: "module", main: "index.js" }),
  );
  copyFileSync(join(repoRoot, "host.json"), join(dir, "host.json"));
  return { root: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
