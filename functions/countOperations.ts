import "../index.js";
import { countOperations } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes("countOperations", {
  method: "GET",
  path: "operations/$count",
  access: "read",
  action: "count",
  summary: "How many of a team's operations match $filter, as text/plain.",
  handler: countOperations,
});
