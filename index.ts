/**
 * The entry file the Functions host loads first (package.json `main`). It
 * reads the configuration eagerly so that an incomplete or contradictory one
 * stops the app at start-up, with a clear message, instead of running open.
 */
import { app } from "@azure/functions";
import { config } from "./shared/config.js";

config();

app.setup({ enableHttpStream: false });
