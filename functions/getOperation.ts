import "../index.js";
import { getOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes("getOperation", {
  method: "GET",
  path: "operations/{operationId}",
  access: "read",
  action: "get",
  summary: "Read an operation; Retry-After while it runs.",
  handler: getOperation,
});
