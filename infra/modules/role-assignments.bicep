metadata name = 'Data-plane role assignments'
metadata description = 'The least-privilege roles one principal needs to run the Team Operations API: host storage (blobs, queues), telemetry ingestion and the Cosmos DB data plane, each scoped to the one resource it is for.'

@description('Required. Object (principal) id that receives the roles.')
param principalId string

@description('Required. A value known before deployment that identifies the principal, used to name the assignments: the resource id of a managed identity, the object id of a person. (Names from principalId itself would be unknown until the identity exists, which blinds What-If.)')
param principalKey string

@description('Required. Kind of principal: ServicePrincipal for a managed identity, User for a person.')
param principalType ('ServicePrincipal' | 'User' | 'Group')

@description('Required. Name of the function host storage account.')
param storageAccountName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Name of the Cosmos DB account.')
param cosmosAccountName string

// Built-in Azure RBAC role definition ids (the same in every tenant).
var roles = {
  // Read, write, delete blobs and containers, and set their ACLs: the Functions host keeps
  // locks and timer state in blobs, and Flex Consumption reads (and azd writes) the package.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Read, write, delete queue messages: the queue trigger, its poison queue and the events queue.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Send telemetry to an Application Insights component whose local auth is off.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// Cosmos DB built-in data-plane role (not an Azure RBAC role): "Cosmos DB Built-in Data
// Contributor": read, write, query items and read the change feed; no account or database
// management, which stays with the template.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource storageAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalKey, roles.storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: principalId
    principalType: principalType
  }
}

resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalKey, roles.storageQueueDataContributor)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roles.storageQueueDataContributor
    )
    principalId: principalId
    principalType: principalType
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalKey, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roles.monitoringMetricsPublisher
    )
    principalId: principalId
    principalType: principalType
  }
}

// Cosmos DB accepts one SQL role assignment write at a time per account: main.bicep
// serialises the modules that reach this resource (dependsOn), and this module has only one.
resource cosmosDataContributorAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2026-03-15' = {
  parent: cosmosAccount
  name: guid(cosmosAccount.id, principalKey, cosmosDataContributor)
  properties: {
    roleDefinitionId: '${cosmosAccount.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    principalId: principalId
    scope: cosmosAccount.id
  }
}

@description('The resource ids of the Azure RBAC role assignments made.')
output roleAssignmentIds string[] = [
  storageBlobDataOwner.id
  storageQueueDataContributor.id
  monitoringMetricsPublisher.id
]

@description('The resource id of the Cosmos DB SQL role assignment made.')
output cosmosRoleAssignmentId string = cosmosDataContributorAssignment.id
