import "../index.js";
import { batch, BATCH_FUNCTION } from "../shared/api/batch.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

// Graph's JSON batching: each request in it is answered by its own route's handler (shared/api/batch.ts).
httpRoute(BATCH_FUNCTION, {
  methods: ["POST"],
  route: "$batch",
  handler: callerRoute(batch),
  info: { summary: "Graph's JSON batching: up to 20 requests, each answered as if sent alone.", produces: "json" },
});
