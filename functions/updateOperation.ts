import "../index.js";
import { updateOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes(
  { teams: "updateOperation", me: "updateMyOperation" },
  { method: "PATCH", path: "operations/{operationId}", access: "write", handler: updateOperation },
);
