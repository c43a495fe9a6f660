import "../index.js";
import { app } from "@azure/functions";
import { health } from "../shared/api/health.js";

app.http("health", { methods: ["GET"], authLevel: "anonymous", route: "health", handler: health });
