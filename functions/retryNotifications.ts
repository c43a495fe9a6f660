import "../index.js";
import { app } from "@azure/functions";
import { retryNotificationsHandler } from "../shared/subscriptions/handlers.js";

// Batches a receiver did not acknowledge, each visible after its backoff delay. A message that keeps failing for
// another reason (store or queue down) goes to <queue>-poison after maxDequeueCount (host.json).
app.storageQueue("retryNotifications", {
  queueName: "%SUBSCRIPTION_DELIVERY_QUEUE%",
  connection: "AzureWebJobsStorage",
  handler: retryNotificationsHandler,
});
