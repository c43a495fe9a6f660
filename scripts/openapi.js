// Writes docs/openapi.json: the OpenAPI description the app serves at /v1.0/openapi.json, taken from the built
// app itself (loaded as the Functions host loads it, then asked for the document), so the file is exactly what
// the registered routes and the schemas generate. test/integration/openapi.test.ts fails when it is not.
//
//   npm run openapi    (builds first)
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import functions from "@azure/functions";

export const OPENAPI_FILE = "docs/openapi.json";

const root = resolve(import.meta.dirname, "..");

/** The functions the built app registers, loaded as the Functions host loads them (once per process). */
export async function builtApp() {
  // The app reads its configuration when it loads; these values are never used to connect.
  process.env.COSMOS_ENDPOINT ??= "http://127.0.0.1:1/";
  process.env.AUTH_AUDIENCES ??= "api://openapi";
  process.env.AUTH_TENANTS ??= "*";
  process.env.AUTH_JWKS_URI ??= "http://127.0.0.1:1/keys";
  const { loadFunctionApp } = await import(pathToFileURL(join(root, "dist/local/functionsHost.js")).href);
  return loadFunctionApp(root);
}

/** The document the built app serves, as text. */
export async function servedOpenApi() {
  const openApi = (await builtApp()).find((fn) => fn.name === "openApi");
  if (!openApi) throw new Error("The app registers no openApi function.");
  const request = new functions.HttpRequest({ method: "GET", url: "http://localhost/v1.0/openapi.json", params: {} });
  const context = new functions.InvocationContext({ invocationId: "openapi", functionName: "openApi" });
  const response = await openApi.handler(request, context);
  if (response.status !== 200) throw new Error(`openApi answered ${response.status}: ${response.body}`);
  return response.body;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(join(root, OPENAPI_FILE), await servedOpenApi());
  console.log(`${OPENAPI_FILE} written`);
}
