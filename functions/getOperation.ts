import "../index.js";
import { getOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes(
  { teams: "getOperation", me: "getMyOperation" },
  { method: "GET", path: "operations/{operationId}", access: "read", handler: getOperation },
);
