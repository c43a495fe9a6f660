import "../index.js";
import { listOperations } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes(
  { teams: "listOperations", me: "listMyOperations" },
  { method: "GET", path: "operations", access: "read", handler: listOperations },
);
