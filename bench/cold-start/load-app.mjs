// Loads the app as the Functions host does (package.json `main`, every
// function file, schemas compiled) in a fresh process, then exits.
import { loadFunctionApp } from "../../dist/local/functionsHost.js";

Object.assign(process.env, {
  COSMOS_ENDPOINT: "http://127.0.0.1:1/",
  AUTH_AUDIENCES: "api://bench",
  AUTH_TENANTS: "*",
});
const functions = await loadFunctionApp(new URL("../..", import.meta.url).pathname);
if (functions.length === 0) process.exit(1);
