import "../index.js";
import { health } from "../shared/api/health.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("health", {
  methods: ["GET"],
  route: "health",
  handler: health,
  info: { summary: "Whether the store answers: 200, or 503 with Retry-After.", anonymous: true, produces: "json" },
});
