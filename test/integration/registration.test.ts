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
    // Every operations route under each way Graph reaches a team's operations; `$ref` only where Graph's generated reference names it.
    const prefixes = [
      ["", "teams/{teamId}"],
      ["My", "me/joinedGroups/{groupId}/team"],
      ["MyJoinedTeam", "me/joinedTeams/{teamId}"],
      ["GroupTeam", "groups/{groupId}/team"],
      ["UserJoinedTeam", "users/{userId}/joinedTeams/{teamId}"],
    ];
    const operations = [
      ["count", "Operations", "operations/$count", "GET"],
      ["create", "Operation", "operations", "POST"],
      ["delete", "Operation", "operations/{operationId}", "DELETE"],
      ["get", "Operation", "operations/{operationId}", "GET"],
      ["list", "Operations", "operations", "GET"],
      ["update", "Operation", "operations/{operationId}", "PATCH"],
    ];
    const expected = [
      ...prefixes.flatMap(([infix, prefix]) =>
        operations.map(([verb, noun, path, method]) => [`${verb}${infix}${noun}`, `${prefix}/${path}`, method]),
      ),
      ["createOperationRef", "teams/{teamId}/operations/$ref", "POST"],
      ["createMyOperationRef", "me/joinedGroups/{groupId}/team/operations/$ref", "POST"],
      ["fallback", "{*path}", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"],
      ["batch", "$batch", "POST"],
      ["health", "health", "GET"],
      ["metadata", "$metadata", "GET"],
      ["notificationKeys", "discovery/keys", "GET"],
      ["openApi", "openapi.json", "GET"],
      ["createSubscription", "subscriptions", "POST"],
      ["listSubscriptions", "subscriptions", "GET"],
      ["getSubscription", "subscriptions/{subscriptionId}", "GET"],
      ["updateSubscription", "subscriptions/{subscriptionId}", "PATCH"],
      ["deleteSubscription", "subscriptions/{subscriptionId}", "DELETE"],
      ["reauthorizeSubscription", "subscriptions/{subscriptionId}/reauthorize", "POST"],
    ]
      .map(([name, route, methods]) => ({ name, route, methods: methods!.split(","), authLevel: "anonymous" }))
      .sort((a, b) => a.name!.localeCompare(b.name!));
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
        name: "deliverNotifications",
        bindings: [
          {
            type: "cosmosDBTrigger",
            direction: "in",
            connection: "COSMOS",
            databaseName: "%COSMOS_DATABASE%",
            containerName: "%COSMOS_CONTAINER%",
            leaseContainerName: "leases",
            leaseContainerPrefix: "notifications-",
            createLeaseContainerIfNotExists: false,
          },
        ],
      },
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
          // No output binding: the events are sent with the storage SDK, so a failed write fails the attempt.
        ],
      },
      {
        name: "retryNotifications",
        bindings: [
          {
            type: "queueTrigger",
            direction: "in",
            queueName: "%SUBSCRIPTION_DELIVERY_QUEUE%",
            connection: "AzureWebJobsStorage",
          },
        ],
      },
      {
        name: "sweepStuckOperations",
        bindings: [{ type: "timerTrigger", direction: "in", schedule: "%SWEEPER_SCHEDULE%" }],
      },
      {
        name: "sweepSubscriptions",
        bindings: [{ type: "timerTrigger", direction: "in", schedule: "%SUBSCRIPTION_LIFECYCLE_SCHEDULE%" }],
      },
    ]);
  });
});
