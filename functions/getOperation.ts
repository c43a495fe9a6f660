import "../index.js";
import { app } from "@azure/functions";
import { getOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";

app.http("getOperation", {
  methods: ["GET"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "read", viaMe: false }, getOperation),
});
app.http("getMyOperation", {
  methods: ["GET"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "read", viaMe: true }, getOperation),
});
