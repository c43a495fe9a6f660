/**
 * The entry file: package.json `main` names it, and every function file
 * imports it first, so it runs before anything else of ours loads, whatever
 * order the host loads files in. It starts telemetry, runs every invocation
 * in the host's trace context, registers the telemetry flush for the host's
 * graceful shutdown, and reads the configuration eagerly so
 * that an incomplete or contradictory one stops the app at start-up, with a
 * clear message, instead of running open; a setting that looks misspelt is
 * a warning that names the one it was probably meant to be.
 */
import { app } from "@azure/functions";
import { config, misspeltSettings, SETTINGS } from "./shared/config.js";
import { continueInvocationTrace, flushTelemetry, startTelemetry } from "./shared/telemetry.js";

if (await startTelemetry()) {
  app.hook.preInvocation(continueInvocationTrace);
  app.hook.appTerminate(() => flushTelemetry());
}
config();
for (const warning of misspeltSettings(
  Object.keys(process.env),
  SETTINGS.map((s) => s.name),
))
  console.warn(warning);

app.setup({ enableHttpStream: false });
