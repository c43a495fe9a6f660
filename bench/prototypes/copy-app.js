// A throw-away copy of the built app (package.json, host.json, dist/, a link to
// node_modules) for measuring prototypes of product-code changes without touching
// the working tree.
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function copyApp(root, label) {
  const copy = mkdtempSync(join(tmpdir(), `teamops-${label}-`));
  for (const entry of ["package.json", "host.json", "dist"])
    cpSync(join(root, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
  return copy;
}
