import "../index.js";
import { getSubscription } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("getSubscription", {
  methods: ["GET"],
  route: "subscriptions/{subscriptionId}",
  handler: callerRoute(getSubscription),
  info: { summary: "One of the caller's subscriptions.", openApi: SUBSCRIPTION_OPENAPI.get },
});
