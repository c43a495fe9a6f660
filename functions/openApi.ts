import "../index.js";
import { openApi } from "../shared/api/metadata.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("openApi", {
  methods: ["GET"],
  route: "openapi.json",
  handler: openApi,
  info: { summary: "This OpenAPI description.", anonymous: true, produces: "json" },
});
