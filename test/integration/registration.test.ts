/**
 * What the function files register with the Functions runtime: loaded
 * through the same `@azure/functions-core` interface the host's worker
 * provides, from the files package.json `main` names.
 */
import { describe, expect, it } from "vitest";
import { loadFunctionApp } from "../../local/functionsHost.js";
import { PROJECT_ROOT } from "../support/stack.js";

describe("function registrations", () => {
  it("registers exactly the expected HTTP routes, methods and authLevel", async () => {
    Object.assign(process.env, {
      COSMOS_ENDPOINT: "http://127.0.0.1:1/",
      AUTH_AUDIENCES: "api://test",
      AUTH_TENANTS: "*",
      AUTH_JWKS_URI: "http://127.0.0.1:1/keys",
    });
    const functions = await loadFunctionApp(PROJECT_ROOT);
    const http = functions
      .filter((f) => f.trigger.type === "httpTrigger")
      .map((f) => ({
        name: f.name,
        route: f.trigger.route,
        methods: f.trigger.methods,
        authLevel: f.trigger.authLevel,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const expected = [
      ["createMyOperation", "me/joinedGroups/{groupId}/team/operations", "POST"],
      ["createMyOperationRef", "me/joinedGroups/{groupId}/team/operations/$ref", "POST"],
      ["createOperation", "teams/{teamId}/operations", "POST"],
      ["createOperationRef", "teams/{teamId}/operations/$ref", "POST"],
      ["deleteMyOperation", "me/joinedGroups/{groupId}/team/operations/{operationId}", "DELETE"],
      ["deleteOperation", "teams/{teamId}/operations/{operationId}", "DELETE"],
      ["fallback", "{*path}", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"],
      ["getMyOperation", "me/joinedGroups/{groupId}/team/operations/{operationId}", "GET"],
      ["getOperation", "teams/{teamId}/operations/{operationId}", "GET"],
      ["health", "health", "GET"],
      ["listMyOperations", "me/joinedGroups/{groupId}/team/operations", "GET"],
      ["listOperations", "teams/{teamId}/operations", "GET"],
      ["updateMyOperation", "me/joinedGroups/{groupId}/team/operations/{operationId}", "PATCH"],
      ["updateOperation", "teams/{teamId}/operations/{operationId}", "PATCH"],
    ].map(([name, route, methods]) => ({ name, route, methods: methods!.split(","), authLevel: "anonymous" }));
    expect(http).toEqual(expected);
    for (const fn of functions.filter((f) => f.trigger.type === "httpTrigger")) {
      expect(fn.bindings.$return?.type, fn.name).toBe("http");
    }
  });

  it("registers the queue, timer and change-feed functions with their bindings", async () => {
    const functions = await loadFunctionApp(PROJECT_ROOT);
    const others = functions
      .filter((f) => f.trigger.type !== "httpTrigger")
      .map((f) => ({
        name: f.name,
        bindings: Object.values(f.bindings)
          .map(({ name: _name, properties: _properties, ...binding }) => binding)
          .sort((a, b) => a.direction.localeCompare(b.direction)),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(others).toEqual([
      {
        name: "processOperationsInbox",
        bindings: [
          {
            type: "queueTrigger",
            direction: "in",
            queueName: "%OPERATIONS_INBOX_QUEUE%",
            connection: "AzureWebJobsStorage",
          },
          {
            type: "queue",
            direction: "out",
            queueName: "%OPERATIONS_INBOX_QUEUE%-poison",
            connection: "AzureWebJobsStorage",
          },
        ],
      },
      {
        name: "publishCompletionEvents",
        bindings: [
          {
            type: "cosmosDBTrigger",
            direction: "in",
            connection: "COSMOS",
            databaseName: "%COSMOS_DATABASE%",
            containerName: "%COSMOS_CONTAINER%",
            leaseContainerName: "leases",
            createLeaseContainerIfNotExists: false,
          },
          { type: "queue", direction: "out", queueName: "%OPERATION_EVENTS_QUEUE%", connection: "AzureWebJobsStorage" },
        ],
      },
      {
        name: "sweepStuckOperations",
        bindings: [{ type: "timerTrigger", direction: "in", schedule: "%SWEEPER_SCHEDULE%" }],
      },
    ]);
  });
});
