import "../index.js";
import { app } from "@azure/functions";
import { updateOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";

app.http("updateOperation", {
  methods: ["PATCH"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: false }, updateOperation),
});
app.http("updateMyOperation", {
  methods: ["PATCH"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: true }, updateOperation),
});
