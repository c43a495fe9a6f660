/**
 * `npm run --silent token -- [options]`: prints one bearer token, signed with
 * the development key, that the server started by `npm start` accepts.
 * Nothing else goes to stdout, so `TOKEN=$(npm run --silent token)` works.
 */
import { parseArgs } from "node:util";
import { mintDevToken, type TokenOptions } from "./devIdentity.js";

const USAGE = `Usage: npm run --silent token -- [--tenant <guid>] [--user <guid>] [--scopes "<scope> <scope>"]
       [--groups <guid>,<guid>] [--app] [--roles "<role> <role>"]
       [--audience <aud>] [--issuer <iss>] [--expires-in <seconds>] [--not-before <seconds>]`;

function seconds(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`--${name} takes a whole number of seconds, not "${raw}".`);
  return value;
}

/** Lets `--expires-in -60` mean what it says (parseArgs would read -60 as an option). */
function joinNegativeNumbers(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if ((arg === "--expires-in" || arg === "--not-before") && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: joinNegativeNumbers(process.argv.slice(2)),
    options: {
      tenant: { type: "string" },
      user: { type: "string" },
      scopes: { type: "string" },
      groups: { type: "string" },
      app: { type: "boolean", default: false },
      roles: { type: "string" },
      audience: { type: "string" },
      issuer: { type: "string" },
      "expires-in": { type: "string" },
      "not-before": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  const options: TokenOptions = {
    tenant: values.tenant,
    user: values.user,
    scopes: values.scopes,
    groups: values.groups
      ?.split(",")
      .map((g) => g.trim())
      .filter(Boolean),
    app: values.app,
    roles: values.roles,
    audience: values.audience,
    issuer: values.issuer,
    expiresIn: seconds("expires-in", values["expires-in"]),
    notBefore: seconds("not-before", values["not-before"]),
  };
  process.stdout.write(`${await mintDevToken(options)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exitCode = 2;
});
