metadata name = 'Private endpoint with its private DNS zone'
metadata description = 'A private endpoint for one sub-resource (blob, queue, Sql) of a storage or Cosmos DB account, the privatelink DNS zone that resolves the account\'s public host name to the endpoint\'s private address, and the zone\'s link to the virtual network.'

@description('Required. Name of the private endpoint.')
param name string

@description('Required. Azure region of the private endpoint (the zone and its link are global).')
param location string

@description('Optional. Tags applied to the endpoint, the zone and the link.')
param tags tagsType = {}

@description('Required. Resource id of the account the endpoint connects to.')
param targetResourceId string

@description('Required. The sub-resource of the account the endpoint is for.')
param groupId groupIdType

@description('Required. Name of the privatelink DNS zone of that sub-resource (privatelink.blob.core.windows.net, privatelink.queue.core.windows.net, privatelink.documents.azure.com).')
param privateDnsZoneName string

@description('Required. Resource id of the subnet the endpoint takes its address from.')
param subnetResourceId string

@description('Required. Resource id of the virtual network the zone is linked to, so that names resolve to the endpoint inside it.')
param virtualNetworkResourceId string

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

@export()
@description('Private link sub-resources: storage blob and queue, Cosmos DB for NoSQL, Key Vault.')
type groupIdType = 'blob' | 'queue' | 'Sql' | 'vault'

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: privateDnsZoneName
  location: 'global'
  tags: tags
}

resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: 'virtual-network'
  location: 'global'
  tags: tags
  properties: {
    virtualNetwork: {
      id: virtualNetworkResourceId
    }
    registrationEnabled: false
  }
}

resource endpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetResourceId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

// Writes the endpoint's A record into the zone (and removes it with the endpoint).
resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2026-03-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: replace(privateDnsZoneName, '.', '-')
        properties: {
          privateDnsZoneId: zone.id
        }
      }
    ]
  }
}

@description('The resource id of the private endpoint.')
output resourceId string = endpoint.id

@description('The resource id of the private DNS zone.')
output privateDnsZoneResourceId string = zone.id

@description('The resource id of the zone\'s virtual network link.')
output virtualNetworkLinkResourceId string = link.id
