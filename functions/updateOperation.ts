import "../index.js";
import { updateOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("updateOperation", {
  methods: ["PATCH"],
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: false }, updateOperation),
});
httpRoute("updateMyOperation", {
  methods: ["PATCH"],
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: true }, updateOperation),
});
