import "../index.js";
import { app } from "@azure/functions";
import { fallback } from "../shared/api/fallback.js";

// A catch-all route ranks after every literal and parameter route, so this answers only what nothing else does.
app.http("fallback", {
  methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
  authLevel: "anonymous",
  route: "{*path}",
  handler: fallback,
});
