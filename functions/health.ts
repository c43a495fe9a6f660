import "../index.js";
import { health } from "../shared/api/health.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("health", { methods: ["GET"], route: "health", handler: health });
