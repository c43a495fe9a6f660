import "../index.js";
import { app, output } from "@azure/functions";
import { completionHandler } from "../shared/events/handlers.js";

const events = output.storageQueue({ queueName: "%OPERATION_EVENTS_QUEUE%", connection: "AzureWebJobsStorage" });

// The change feed, not the writer, announces completions: no dual write that could lose an event.
app.cosmosDB("publishCompletionEvents", {
  connection: "COSMOS",
  databaseName: "%COSMOS_DATABASE%",
  containerName: "%COSMOS_CONTAINER%",
  leaseContainerName: "leases",
  createLeaseContainerIfNotExists: false,
  extraOutputs: [events],
  handler: completionHandler(events),
});
