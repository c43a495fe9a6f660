metadata name = 'Data-plane role assignments'
metadata description = 'The least-privilege roles one principal needs to run the Team Operations API: host storage (blobs, queues), telemetry ingestion and the Cosmos DB data plane of its database, each scoped to the one resource it is for.'

@description('Required. Object (principal) id that receives the roles.')
param principalId string

@description('Required. Kind of principal: ServicePrincipal for a managed identity, User for a person.')
param principalType principalTypeType

@description('Required. Name of the function host storage account.')
param storageAccountName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Required. Name of the Cosmos DB database the data role is scoped to (its containers: operations, subscriptions and leases).')
param cosmosDatabaseName string

@export()
@description('Kinds of principal a role can be assigned to.')
type principalTypeType = 'ServicePrincipal' | 'User' | 'Group'

// Built-in Azure RBAC role definitions (the same ids in every tenant).

// Read, write, delete blobs and containers, and set their ACLs: the Functions host keeps
// locks and timer state in blobs, and Flex Consumption reads (and azd writes) the package.
resource storageBlobDataOwnerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
}

// Read, write, delete queue messages: the queue trigger, its poison queue and the events queue.
resource storageQueueDataContributorRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
}

// Send telemetry to an Application Insights component whose local auth is off.
resource monitoringMetricsPublisherRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' existing = {
  scope: subscription()
  name: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

// Cosmos DB built-in data-plane role (not an Azure RBAC role), "Cosmos DB Built-in Data
// Contributor": read, write, query items and read the change feed; no account or database
// management, which stays with the template. Scoped to the app's database, not the account.
var cosmosDataContributorId = '${cosmosAccount.id}/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002'
var cosmosDatabaseScope = '${cosmosAccount.id}/dbs/${cosmosDatabaseName}'

// Every assignment is named guid(scope, principal id, role definition id), as Azure Verified
// Modules name theirs: the same principal, role and scope always give the same name, so a
// redeployment finds its assignments again, and a re-created identity (a new principal id) gets
// new ones instead of colliding with its predecessor's.

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, storageBlobDataOwnerRole.id)
  scope: storageAccount
  properties: {
    roleDefinitionId: storageBlobDataOwnerRole.id
    principalId: principalId
    principalType: principalType
  }
}

resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, storageQueueDataContributorRole.id)
  scope: storageAccount
  properties: {
    roleDefinitionId: storageQueueDataContributorRole.id
    principalId: principalId
    principalType: principalType
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRole.id)
  scope: applicationInsights
  properties: {
    roleDefinitionId: monitoringMetricsPublisherRole.id
    principalId: principalId
    principalType: principalType
  }
}

// Cosmos DB accepts one SQL role assignment write at a time per account: main.bicep
// serialises the modules that reach this resource (dependsOn), and this module has only one.
resource cosmosDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2026-03-15' = {
  parent: cosmosAccount
  name: guid(cosmosDatabaseScope, principalId, cosmosDataContributorId)
  properties: {
    roleDefinitionId: cosmosDataContributorId
    principalId: principalId
    scope: cosmosDatabaseScope
  }
}

@description('The resource ids of the Azure RBAC role assignments made.')
output roleAssignmentIds string[] = [
  storageBlobDataOwner.id
  storageQueueDataContributor.id
  monitoringMetricsPublisher.id
]

@description('The resource id of the Cosmos DB SQL role assignment made.')
output cosmosRoleAssignmentId string = cosmosDataContributor.id

@description('The scope of the Cosmos DB SQL role assignment: the database.')
output cosmosRoleAssignmentScope string = cosmosDatabaseScope
