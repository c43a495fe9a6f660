import "../index.js";
import { listOperations } from "../shared/api/operations.js";
import { graphRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("listOperations", {
  methods: ["GET"],
  route: "teams/{teamId}/operations",
  handler: graphRoute({ access: "read", viaMe: false }, listOperations),
});
httpRoute("listMyOperations", {
  methods: ["GET"],
  route: "me/joinedGroups/{groupId}/team/operations",
  handler: graphRoute({ access: "read", viaMe: true }, listOperations),
});
