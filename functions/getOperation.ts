import "../index.js";
import { getOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("getOperation", {
  methods: ["GET"],
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "read", viaMe: false }, getOperation),
});
httpRoute("getMyOperation", {
  methods: ["GET"],
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "read", viaMe: true }, getOperation),
});
