/**
 * The entry file: package.json `main` names it, and every function file
 * imports it first, so it runs before anything else of ours loads, whatever
 * order the host loads files in. It starts telemetry before the modules it
 * instruments, and reads the configuration eagerly so that an incomplete or
 * contradictory one stops the app at start-up, with a clear message, instead
 * of running open.
 */
import { app } from "@azure/functions";
import { config } from "./shared/config.js";
import { startTelemetry } from "./shared/telemetry.js";

startTelemetry();
config();

app.setup({ enableHttpStream: false });
