import "../index.js";
import { deleteOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes(
  { teams: "deleteOperation", me: "deleteMyOperation" },
  { method: "DELETE", path: "operations/{operationId}", access: "write", handler: deleteOperation },
);
