import "../index.js";
import { deleteOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("deleteOperation", {
  methods: ["DELETE"],
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: false }, deleteOperation),
});
httpRoute("deleteMyOperation", {
  methods: ["DELETE"],
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: true }, deleteOperation),
});
