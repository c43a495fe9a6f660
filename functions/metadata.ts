import "../index.js";
import { metadata } from "../shared/api/metadata.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("metadata", {
  methods: ["GET"],
  route: "$metadata",
  handler: metadata,
  info: { summary: "The CSDL of the types and entity sets this API serves.", anonymous: true, produces: "xml" },
});
