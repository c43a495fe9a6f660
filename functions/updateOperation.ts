import "../index.js";
import { updateOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes("updateOperation", {
  method: "PATCH",
  path: "operations/{operationId}",
  access: "write",
  action: "update",
  summary: "Change an operation under the state rules; If-Match honoured.",
  handler: updateOperation,
});
