// Writes docs/configuration.md from the settings catalogues: the app's (shared/config.ts), the local runner's
// (local/runnerSettings.ts) and the example receiver's (local/receiver.ts), so the page names every setting the code
// reads, with the code's own descriptions and defaults. test/unit/scripts/configuration-doc.test.ts fails when the page
// differs from what this writes.
//
//   npm run docs:configuration    (builds first)
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";

export const CONFIGURATION_DOC = "docs/configuration.md";

const root = resolve(import.meta.dirname, "..");

/** A table cell: pipes escaped, and angle brackets, so that `<name>` shows rather than reads as an HTML tag. */
function cell(text) {
  return text.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function code(value) {
  return value === undefined || value === "" ? "" : `\`${value}\``;
}

function table(header, rows) {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
  ].join("\n");
}

/**
 * The page, formatted as prettier formats Markdown here.
 *
 * @param {{ settings: readonly { name: string; description: string; default?: string; localOnly?: boolean; host?: boolean; accepts?: string }[];
 *   runnerSettings: readonly { name: string; description: string; default: string; allowed: string }[];
 *   receiverSettings: readonly { name: string; description: string; default: string }[] }} catalogues
 */
export async function configurationDoc({ settings, runnerSettings, receiverSettings }) {
  const appRows = (filter) =>
    settings.filter(filter).map((s) => [code(s.name), s.description, s.accepts ?? "", code(s.default)]);
  const hostRows = settings.filter((s) => s.host).map((s) => [code(s.name), s.description]);
  const text = `# Configuration

<!-- Made by npm run docs:configuration from shared/config.ts, local/runnerSettings.ts and local/receiver.ts; a test fails while it differs. -->

The app reads its settings from the environment: app settings in Azure, and under \`func start\` and \`npm start\` the
\`Values\` of \`local.settings.json\` too (the environment wins; an empty value counts as unset). It checks them when it
starts and refuses to run when one is missing, malformed or contradictory, with a message that names the setting.
A name that looks like a setting misspelt (\`LOCAL_PERSISTANCE\`, \`AUTH_TENANT\`) is a warning at start-up that names
the setting it was probably meant to be; it is otherwise ignored.

- [App settings](#app-settings)
- [Local development only](#local-development-only)
- [Read by the Functions host](#read-by-the-functions-host)
- [npm start and npm run dev](#npm-start-and-npm-run-dev)
- [npm run receiver](#npm-run-receiver)

## App settings

The deployment sets these (\`infra/\`); \`COSMOS_ENDPOINT\`, \`AUTH_AUDIENCES\` and \`AUTH_TENANTS\` have no default and
are required.

${table(
  ["setting", "what it is", "accepts", "default"],
  appRows((s) => !s.localOnly && !s.host),
)}

## Local development only

Never set by the deployment; those that would open the app up are refused in Azure.

${table(
  ["setting", "what it is", "accepts", "default"],
  appRows((s) => s.localOnly),
)}

## Read by the Functions host

Read by the host or a binding, not by the app's code: identity-based connections and the request body limit.

${table(["setting", "what it is"], hostRows)}

## npm start and npm run dev

The local runner's own settings, checked when it starts: a value that is not allowed stops it with a message naming
the setting, the value and what is allowed, and a port that is taken is reported at once with the setting that moves
it. Unless they are given, it provides the app settings a laptop needs: \`COSMOS_ENDPOINT\` and \`COSMOS_KEY\` of the
embedded store it starts, \`AUTH_AUDIENCES=api://team-operations-local\`, \`AUTH_TENANTS=*\`, \`AUTH_JWKS_FILE\` with
the development key (\`.dev/jwks.json\`), \`SUBSCRIPTION_ALLOW_LOOPBACK=true\`, and \`AzureWebJobsStorage\` of the
Azurite it starts (printed when it starts).

${table(
  ["setting", "what it is", "allowed", "default"],
  runnerSettings.map((s) => [code(s.name), s.description, s.allowed, code(s.default)]),
)}

## npm run receiver

The example change-notification receiver ([notifications.md](notifications.md#try-it-locally)).

${table(
  ["setting", "what it is", "default"],
  receiverSettings.map((s) => [code(s.name), s.description, code(s.default)]),
)}
`;
  const options = await resolveConfig(join(root, CONFIGURATION_DOC));
  return format(text, { ...options, parser: "markdown" });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = (path) => import(pathToFileURL(join(root, "dist", path)).href);
  const [{ SETTINGS }, { RUNNER_SETTINGS }, { RECEIVER_SETTINGS }] = await Promise.all([
    dist("shared/config.js"),
    dist("local/runnerSettings.js"),
    dist("local/receiver.js"),
  ]);
  const doc = await configurationDoc({
    settings: SETTINGS,
    runnerSettings: RUNNER_SETTINGS,
    receiverSettings: RECEIVER_SETTINGS,
  });
  writeFileSync(join(root, CONFIGURATION_DOC), doc);
  console.log(`${CONFIGURATION_DOC} written`);
}
