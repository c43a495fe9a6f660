metadata name = 'User-assigned managed identity'
metadata description = 'The identity the function app uses for every data-plane call: host storage, queues, Cosmos DB and telemetry ingestion.'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Required. Azure region of the identity.')
param location string

@description('Optional. Tags applied to the identity.')
param tags tagsType = {}

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('The name of the identity.')
output name string = identity.name

@description('The resource id of the identity.')
output resourceId string = identity.id

@description('The object (principal) id of the identity, for role assignments.')
output principalId string = identity.properties.principalId

@description('The client (application) id of the identity, for DefaultAzureCredential and identity-based connections.')
output clientId string = identity.properties.clientId
