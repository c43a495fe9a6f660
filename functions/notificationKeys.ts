import "../index.js";
import { notificationKeys } from "../shared/api/notificationKeys.js";
import { httpRoute } from "../shared/http/routes.js";

httpRoute("notificationKeys", {
  methods: ["GET"],
  route: "discovery/keys",
  handler: notificationKeys,
  info: {
    summary: "The JSON Web Key Set that checks the validation tokens of notifications with resource data.",
    anonymous: true,
    produces: "json",
  },
});
