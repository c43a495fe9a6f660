import "../index.js";
import { deleteOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes("deleteOperation", {
  method: "DELETE",
  path: "operations/{operationId}",
  access: "write",
  action: "delete",
  summary: "Delete an operation.",
  handler: deleteOperation,
});
