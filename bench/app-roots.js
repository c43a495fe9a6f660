// The app as the bench loads it. The repository's package.json `main` names the
// bundle (dist-bundle/index.js), which is what runs and ships. The unbundled app is
// tsc's output as a function app folder of its own: a package.json whose `main` is
// the host's glob over dist/, host.json, and dist/ symlinked (so its modules resolve
// to the repository's node_modules, and to the same module instances as dist/).
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
