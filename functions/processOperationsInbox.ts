import "../index.js";
import { app, output } from "@azure/functions";
import { inboxHandler } from "../shared/events/handlers.js";

// Messages that can never succeed go to the poison queue at once, with their reason; the host puts those that
// keep failing for transient reasons there too, after maxDequeueCount (host.json).
const poison = output.storageQueue({ queueName: "%OPERATIONS_INBOX_QUEUE%-poison", connection: "AzureWebJobsStorage" });

app.storageQueue("processOperationsInbox", {
  queueName: "%OPERATIONS_INBOX_QUEUE%",
  connection: "AzureWebJobsStorage",
  extraOutputs: [poison],
  handler: inboxHandler(poison),
});
