import "../index.js";
import { createOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

// One handler behind every create route. The `$ref` forms are the routes of Graph's generated reference for
// creating operations, kept as documented aliases of the collection POST on the two paths it names.
const create = { method: "POST", access: "write", action: "create", handler: createOperation } as const;
teamRoutes("createOperation", { ...create, path: "operations", summary: "Create an operation." });
teamRoutes("createOperationRef", {
  ...create,
  path: "operations/$ref",
  summary: "Create an operation (a documented alias of POST .../operations).",
  alias: true,
  only: ["teams", "myJoinedGroups"],
});
