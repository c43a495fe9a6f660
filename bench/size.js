// Section 4: the size of the deployment package, zipped with `zip -q -r -9` into a
// temp folder. Bundled (what ships): the dist-bundle/ folder as its .funcignore
// says (no source maps). Unbundled
// (what shipping tsc's output would take): dist/ without dist/local and dist/test,
// host.json, package.json and the production node_modules, no *.ts. Prints JSON.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function zip(cwd, out, paths, exclude) {
  execFileSync("zip", ["-q", "-r", "-9", "-X", out, ...paths, "-x", ...exclude], { cwd, maxBuffer: 1 << 26 });
  const total = execFileSync("zipinfo", ["-t", out], { encoding: "utf8" }); // "N files, U bytes uncompressed, C bytes compressed: ..."
  const [, files, bytes] = /^(\d+) files?, (\d+) bytes uncompressed/.exec(total) ?? [];
  return { zip: statSync(out).size, uncompressed: Number(bytes), files: Number(files) };
}

const work = mkdtempSync(join(tmpdir(), "teamops-bench-size-"));
try {
  // The production dependency tree; nested node_modules come with their parent package.
  const production = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: root, encoding: "utf8" })
    .split("\n")
    .map((p) => relative(root, p))
    .filter((p) => p.startsWith("node_modules/") && p.split("node_modules/").length === 2);
  const unbundled = zip(
    root,
    join(work, "unbundled.zip"),
    ["dist", "host.json", "package.json", ...production],
    ["dist/local/*", "dist/test/*", "*.ts", "*.tsbuildinfo"],
  );
  // dist-bundle/.funcignore leaves the source maps out of the deployment.
  const bundled = zip(join(root, "dist-bundle"), join(work, "bundled.zip"), ["."], ["*.map", ".funcignore"]);
  process.stdout.write(JSON.stringify({ unbundled: { ...unbundled, packages: production.length }, bundled }) + "\n");
} finally {
  rmSync(work, { recursive: true, force: true });
}
