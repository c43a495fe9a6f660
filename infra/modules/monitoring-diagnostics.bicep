metadata name = 'Diagnostic settings'
metadata description = 'Resource logs of Cosmos DB and of the host storage\'s blob and queue services, sent to the Log Analytics workspace (resource-specific tables), so that changes to the account, hot partitions, a queue message written or deleted, and a package upload can be queried next to the app\'s telemetry.'

@description('Required. Resource id of the Log Analytics workspace the logs go to.')
param workspaceResourceId string

@description('Required. Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Required. Name of the host storage account.')
param storageAccountName string

@description('Optional. Cosmos DB log categories: control-plane changes (who changed the account, its throughput, its containers) and the request units per partition key (hot partitions). DataPlaneRequests, a row per request, is left out by default: the app records every store call itself, with its status, substatus, activity id and request charge (a dependency), and the rows would cost more than the rest of the telemetry; add it for an investigation.')
param cosmosLogCategories string[] = [
  'ControlPlaneRequests'
  'PartitionKeyRUConsumption'
]

@description('Optional. Blob and queue log categories. StorageRead is left out on purpose: the Functions host polls each queue every few seconds while it runs, and every poll would be a billed row.')
param storageLogCategories string[] = [
  'StorageWrite'
  'StorageDelete'
]

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2026-03-15' existing = {
  name: cosmosAccountName
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2026-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }
}

// The newest version of the type: there is no later GA one (2016-09-01 has no resource-specific tables).
#disable-next-line use-recent-api-versions
resource cosmosDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cosmosAccount
  properties: {
    workspaceId: workspaceResourceId
    // Resource-specific tables (CDBDataPlaneRequests, ...), not AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [for category in cosmosLogCategories: { category: category, enabled: true }]
  }
}

#disable-next-line use-recent-api-versions
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount::blobService
  properties: {
    workspaceId: workspaceResourceId
    logs: [for category in storageLogCategories: { category: category, enabled: true }]
  }
}

#disable-next-line use-recent-api-versions
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount::queueService
  properties: {
    workspaceId: workspaceResourceId
    logs: [for category in storageLogCategories: { category: category, enabled: true }]
  }
}

@description('The resource ids of the diagnostic settings.')
output resourceIds string[] = [
  cosmosDiagnostics.id
  blobDiagnostics.id
  queueDiagnostics.id
]
