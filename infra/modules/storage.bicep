metadata name = 'Function host storage'
metadata description = 'The storage account of the Functions host: its blob container for Flex Consumption deployment packages and the queues of the event-driven functions. Shared-key access is off, so every caller authenticates with Microsoft Entra ID; public network access can be turned off for the private-network mode.'

@description('Required. Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the storage account.')
param location string

@description('Optional. Tags applied to the storage account.')
param tags tagsType = {}

@description('Required. Name of the blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Optional. Queues to create.')
param queueNames string[] = []

@description('Optional. Redundancy of the account: ZRS keeps three copies in three availability zones, so queued messages and the package survive a zone outage.')
param skuName ('Standard_LRS' | 'Standard_ZRS') = 'Standard_LRS'

@description('Optional. Days a deleted or overwritten blob (the deployment package among them) and a deleted container can be restored (soft delete).')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int = 7

@description('Optional. Disabled: reachable only through private endpoints (the private-network mode); the network rules then deny everything else, trusted Azure services included.')
param publicNetworkAccess publicNetworkAccessType = 'Enabled'

@description('Whether the account accepts traffic from public networks.')
type publicNetworkAccessType = 'Enabled' | 'Disabled'

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: publicNetworkAccess == 'Enabled'
      ? { bypass: 'AzureServices', defaultAction: 'Allow' }
      : { bypass: 'None', defaultAction: 'Deny' }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    // An overwritten blob keeps a soft-deleted snapshot too: the package a deployment replaced can be undeleted.
    deleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-06-01' = {
  parent: storageAccount
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-06-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

@description('The name of the storage account.')
output name string = storageAccount.name

@description('The resource id of the storage account.')
output resourceId string = storageAccount.id

@description('Whether the account accepts traffic from public networks.')
output publicNetworkAccess string = storageAccount.properties.publicNetworkAccess

@description('The blob endpoint, for AzureWebJobsStorage__blobServiceUri.')
output blobEndpoint string = storageAccount.properties.primaryEndpoints.blob

@description('The queue endpoint, for AzureWebJobsStorage__queueServiceUri.')
output queueEndpoint string = storageAccount.properties.primaryEndpoints.queue

@description('The name of the deployment package container.')
output deploymentContainerName string = deploymentContainer.name

@description('The names of the queues created.')
output queueNames string[] = [for (queueName, i) in queueNames: queues[i].name]
