// `npm run start:func`, after scripts/prepare-local.js --func: `func start` on the built app, with the project's own
// Azure Functions Core Tools when npm could install them, else the func on PATH. Arguments go to `func start`.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { findFunc } from "./prepare-local.js";

const root = resolve(import.meta.dirname, "..");
const func = findFunc(root);
process.stderr.write(`Azure Functions Core Tools: ${func}\n`);
const child = spawn(func, ["start", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.once("error", (error) => {
  process.stderr.write(`${func} could not be started: ${error.message}\n`);
  process.exitCode = 1;
});
child.once("exit", (code, signal) => (process.exitCode = code ?? (signal ? 1 : 0)));
