/**
 * The worst $filter the limits allow, over real HTTP, against the local
 * runner as `npm start` runs it (its embedded store in its own process, so
 * the store's SQL parser shares the API's event loop): while it runs, again
 * and again, /health and another tenant's requests keep answering. The
 * translation this replaced nested a pair of parentheses per node, and the
 * store's parser took minutes over such a filter, holding the whole process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureDevKeys, mintDevToken, type DevKeys, type TokenOptions } from "../../local/devIdentity.js";
import { call, OTHER_TENANT, TEAM } from "../support/http.js";
import { spawnRunner, type Runner } from "../support/stack.js";
import { WORST_ALLOWED_FILTER } from "./arbitraries.js";

let runner: Runner;
let keys: DevKeys;
const devDir = mkdtempSync(join(tmpdir(), "teamops-query-cost-"));
beforeAll(async () => {
  keys = await ensureDevKeys(devDir);
  runner = await spawnRunner({ LOCAL_QUEUES: "off", TEAMOPS_DEV_DIR: devDir });
});
afterAll(async () => {
  await runner?.stop();
  rmSync(devDir, { recursive: true, force: true });
});
const stack = {
  get baseUrl() {
    return runner.baseUrl;
  },
  token: (options: TokenOptions) => mintDevToken(options, keys),
};

/** Each request must answer within this time: the worst filter takes milliseconds; the old translation, minutes. */
const ANSWER_WITHIN_MS = 5_000;
const bounded = (url: string, token?: string) => call(url, { token, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });

it("keeps /health and another tenant answering while the worst allowed filter runs", async () => {
  const token = await stack.token({ app: true });
  const otherTenant = await stack.token({ app: true, tenant: OTHER_TENANT });
  const collection = `${stack.baseUrl}/teams/${TEAM}/operations`;
  for (const [who, n] of [[token, 3] as const, [otherTenant, 2] as const]) {
    for (let i = 0; i < n; i++) {
      const res = await call(collection, { method: "POST", token: who, body: { operationType: "cloneTeam" } });
      expect(res.status, res.text).toBe(201);
    }
  }
  const worst = `${collection}?$filter=${encodeURIComponent(WORST_ALLOWED_FILTER)}&$count=true&$orderby=createdDateTime desc`;

  const heavy = Array.from({ length: 3 }, async () => {
    const answers = [];
    for (let round = 0; round < 5; round++) answers.push(await bounded(worst, token));
    return answers;
  });
  const light = Array.from({ length: 2 }, async () => {
    const answers = [];
    for (let round = 0; round < 10; round++) {
      answers.push(await bounded(`${stack.baseUrl}/health`));
      answers.push(await bounded(collection, otherTenant));
    }
    return answers;
  });
  const [heavyAnswers, lightAnswers] = (await Promise.all([Promise.all(heavy), Promise.all(light)])).map((a) =>
    a.flat(),
  );

  for (const res of heavyAnswers!) {
    expect(res.status, res.text).toBe(200);
    expect(res.json["@odata.count"]).toBe(3);
  }
  for (const res of lightAnswers!) expect(res.status, res.text).toBe(200);
  const otherTenantLists = lightAnswers!.filter((res) => Array.isArray(res.json?.value));
  for (const res of otherTenantLists) expect(res.json.value).toHaveLength(2);
}, 120_000);
