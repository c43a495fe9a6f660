/**
 * `npm run --silent token -- [options]`: prints one bearer token, signed with
 * the development key, that the server started by `npm start` accepts.
 * Nothing else goes to stdout, so `TOKEN=$(npm run --silent token)` works.
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_APP_ROLES,
  DEFAULT_SCOPES,
  DEV_AUDIENCE,
  DEV_TENANT_ID,
  DEV_USER_ID,
  mintDevToken,
  type TokenOptions,
} from "./devIdentity.js";

const USAGE = `Usage: npm run --silent token -- [options]

Prints one bearer token, signed with the development key in .dev/, that the server \`npm start\` runs accepts.
Delegated (a user) by default; --app for an application.

Options (default in brackets):
  --tenant <guid>           the tenant, tid [${DEV_TENANT_ID}]
  --groups <guid>,<guid>    delegated: the user's groups, the teams it may act on [none]
  --scopes "<s> <s>"        delegated: scopes, scp [${DEFAULT_SCOPES}]
  --user <guid>             delegated: the user's object id, oid [${DEV_USER_ID}]
  --app                     an application token: roles, no scp, no user [off]
  --roles "<r> <r>"         with --app: application roles [${DEFAULT_APP_ROLES}]
  --audience <aud>          aud [${DEV_AUDIENCE}]
  --issuer <iss>            iss [https://login.microsoftonline.com/<tenant>/v2.0]
  --expires-in <seconds>    lifetime; negative: already expired [3600]
  --not-before <seconds>    not valid until this many seconds from now [0]
  -h, --help                this text

Examples:
  TOKEN=$(npm run --silent token -- --groups 3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f)   # a member of that team
  TOKEN=$(npm run --silent token -- --app)                                          # any team of the tenant
  TOKEN=$(npm run --silent token -- --scopes TeamsAsyncOperation.Read)               # read-only`;

/** Options that only one kind of token has: naming one for the other kind is a mistake, not a no-op. */
const DELEGATED_ONLY = ["groups", "scopes", "user"] as const;

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
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.app) {
    const wrong = DELEGATED_ONLY.filter((name) => values[name] !== undefined);
    if (wrong.length > 0) {
      throw new Error(`${wrong.map((n) => `--${n}`).join(", ")} describe a user; an --app token has none.`);
    }
  } else if (values.roles !== undefined) {
    throw new Error("--roles applies only with --app (a delegated token carries --scopes instead).");
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
  process.stderr.write(
    `${error instanceof Error ? error.message : String(error)}\nUsage: npm run --silent token -- [options]   (--help lists them)\n`,
  );
  process.exitCode = 2;
});
