// The esbuild options the app is bundled with (scripts/bundle.js), shared with the
// bench, which bundles its baselines and the telemetry options it compares the same way.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * OpenTelemetry's packages name their CommonJS build in `main` and their ES module build in `module`, without an
 * `exports` map, so esbuild (platform node) would take the CommonJS one: every module of it evaluated at load, none
 * shaken out. This takes the ES module build, as esbuild does for packages whose `exports` offer one.
 */
export const openTelemetryModules = {
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

/** Everything but the entry points and where the output goes. */
export const bundleOptions = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  // The Functions worker provides it.
  external: ["@azure/functions-core"],
  plugins: [openTelemetryModules],
  // Fully minified, without esbuild's keepNames (which wraps every named function each time it is created, a cost
  // on every request) and without unminified identifiers (a larger file to parse at every cold start, and names that
  // can collide with the banner's __filename): see docs/benchmarks.md. A stack trace's positions map back through
  // the build's source maps.
  minify: true,
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
};
