import "../index.js";
import { listOperations } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

teamRoutes("listOperations", {
  method: "GET",
  path: "operations",
  access: "read",
  action: "list",
  summary: "List a team's operations, with $filter, $orderby, $select, $top, $count and paging.",
  handler: listOperations,
});
