import "../index.js";
import { listSubscriptions } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("listSubscriptions", {
  methods: ["GET"],
  route: "subscriptions",
  handler: callerRoute(listSubscriptions),
  info: { summary: "The caller's own subscriptions.", openApi: SUBSCRIPTION_OPENAPI.list },
});
