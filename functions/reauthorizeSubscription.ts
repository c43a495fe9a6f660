import "../index.js";
import { reauthorizeSubscription } from "../shared/api/subscriptions.js";
import { callerRoute } from "../shared/http/pipeline.js";
import { httpRoute } from "../shared/http/routes.js";
import { SUBSCRIPTION_OPENAPI } from "../shared/subscriptions/openapi.js";

httpRoute("reauthorizeSubscription", {
  methods: ["POST"],
  route: "subscriptions/{subscriptionId}/reauthorize",
  handler: callerRoute(reauthorizeSubscription),
  info: {
    summary: "Reauthorize a subscription (Graph's answer to reauthorizationRequired, without a new expiration).",
    openApi: SUBSCRIPTION_OPENAPI.reauthorize,
  },
});
