import "../index.js";
import { app } from "@azure/functions";
import { deleteOperation } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";

app.http("deleteOperation", {
  methods: ["DELETE"],
  authLevel: "anonymous",
  route: "teams/{teamId}/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: false }, deleteOperation),
});
app.http("deleteMyOperation", {
  methods: ["DELETE"],
  authLevel: "anonymous",
  route: "me/joinedGroups/{groupId}/team/operations/{operationId}",
  handler: graphRoute({ access: "write", viaMe: true }, deleteOperation),
});
