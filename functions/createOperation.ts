import "../index.js";
import { createOperation } from "../shared/api/operations.js";
import { teamRoutes } from "../shared/http/routes.js";

// One handler behind the four create routes. The `$ref` forms are the seed
// document's routes, kept as documented aliases of the collection POST.
const create = { method: "POST", access: "write", handler: createOperation } as const;
teamRoutes({ teams: "createOperation", me: "createMyOperation" }, { ...create, path: "operations" });
teamRoutes({ teams: "createOperationRef", me: "createMyOperationRef" }, { ...create, path: "operations/$ref" });
