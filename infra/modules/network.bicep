metadata name = 'Virtual network of the private-network mode'
metadata description = 'A virtual network with two subnets: one delegated to Microsoft.App/environments for the Flex Consumption app\'s virtual network integration, with a NAT gateway for its internet-bound traffic (token validation keys, telemetry ingestion), and one for the private endpoints of storage and Cosmos DB.'

@description('Required. Name of the virtual network.')
param name string

@description('Required. Name of the NAT gateway of the app subnet.')
param natGatewayName string

@description('Required. Name of the NAT gateway\'s public IP address.')
param publicIpName string

@description('Required. Azure region of the network resources.')
param location string

@description('Optional. Tags applied to the network resources.')
param tags tagsType = {}

@description('Optional. Address space of the virtual network and of its two subnets.')
param addressPrefixes addressPrefixesType = {
  virtualNetwork: '10.0.0.0/16'
  appSubnet: '10.0.1.0/24'
  privateEndpointSubnet: '10.0.2.0/24'
}

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

@export()
@description('Address prefixes (CIDR) of the virtual network and its subnets; the subnets must lie within the network\'s.')
type addressPrefixesType = {
  @description('Required. Address space of the virtual network.')
  virtualNetwork: string

  @description('Required. The app integration subnet: Flex Consumption takes an address per instance, so a /24 allows scaling out far.')
  appSubnet: string

  @description('Required. The private endpoint subnet: one address per private endpoint.')
  privateEndpointSubnet: string
}

var subnetNames = {
  app: 'snet-app'
  privateEndpoints: 'snet-private-endpoints'
}

resource publicIp 'Microsoft.Network/publicIPAddresses@2026-03-01' = {
  name: publicIpName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Regional'
  }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

// The app's outbound traffic all enters the virtual network; what is bound for the internet
// (Entra ID's signing keys, Application Insights ingestion) leaves through this gateway, with
// one static address, rather than through default outbound access, which new subnets do not get.
resource natGateway 'Microsoft.Network/natGateways@2026-03-01' = {
  name: natGatewayName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
  }
  properties: {
    idleTimeoutInMinutes: 4
    publicIpAddresses: [
      {
        id: publicIp.id
      }
    ]
  }
}

resource virtualNetwork 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefixes.virtualNetwork
      ]
    }
    subnets: [
      {
        name: subnetNames.app
        properties: {
          addressPrefix: addressPrefixes.appSubnet
          // The delegation Flex Consumption's virtual network integration requires.
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
          natGateway: {
            id: natGateway.id
          }
          defaultOutboundAccess: false
        }
      }
      {
        name: subnetNames.privateEndpoints
        properties: {
          addressPrefix: addressPrefixes.privateEndpointSubnet
          privateEndpointNetworkPolicies: 'Disabled'
          defaultOutboundAccess: false
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: subnetNames.app
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: subnetNames.privateEndpoints
  }
}

@description('The name of the virtual network.')
output name string = virtualNetwork.name

@description('The resource id of the virtual network.')
output resourceId string = virtualNetwork.id

@description('The resource id of the subnet the function app integrates with.')
output appSubnetResourceId string = virtualNetwork::appSubnet.id

@description('The resource id of the subnet of the private endpoints.')
output privateEndpointSubnetResourceId string = virtualNetwork::privateEndpointSubnet.id

@description('The static public IP address the app\'s internet-bound traffic leaves from.')
output outboundIpAddress string = publicIp.properties.ipAddress
