metadata name = 'Workbook'
metadata description = 'An Azure Monitor workbook that shows the API\'s health, its store, its queues and its change notifications on one page, from the Application Insights component (monitoring-workbook.json).'

@description('Required. Display name of the workbook.')
param displayName string

@description('Required. Azure region of the workbook.')
param location string

@description('Optional. Tags applied to the workbook.')
param tags tagsType = {}

@description('Required. Resource id of the Application Insights component the workbook opens on.')
param applicationInsightsResourceId string

@description('Tags: string keys and values.')
type tagsType = {
  *: string
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name is a GUID: one per resource group.
  name: guid(resourceGroup().id, 'team-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsResourceId
    serializedData: replace(
      loadTextContent('monitoring-workbook.json'),
      '__APPLICATION_INSIGHTS_RESOURCE_ID__',
      applicationInsightsResourceId
    )
  }
}

@description('The resource id of the workbook.')
output resourceId string = workbook.id
