metadata name = 'Budget'
metadata description = 'A monthly cost budget on the resource group, with notifications at 50, 80 and 100 percent of actual cost and at 100 percent of the month\'s forecast, to the action group, the resource group\'s owners and any email addresses given.'

@description('Required. Name of the budget.')
param name string

@description('Required. The monthly amount, in the billing currency.')
@minValue(1)
param amount int

@description('Required. Resource id of the action group notified.')
param actionGroupResourceId string

@description('Optional. Email addresses notified besides the action group and the owners.')
param contactEmails string[] = []

@description('Optional. The first day of the budget\'s first month (it must be the first of a month, and not before the current one).')
param startDate string = '${utcNow('yyyy')}-${utcNow('MM')}-01T00:00:00Z'

@description('A budget notification.')
type notificationType = {
  @description('Required. Percent of the amount.')
  threshold: int

  @description('Required. Actual cost so far, or the cost forecast for the month.')
  thresholdType: 'Actual' | 'Forecasted'
}

var notifications notificationType[] = [
  { threshold: 50, thresholdType: 'Actual' }
  { threshold: 80, thresholdType: 'Actual' }
  { threshold: 100, thresholdType: 'Actual' }
  { threshold: 100, thresholdType: 'Forecasted' }
]

resource budget 'Microsoft.Consumption/budgets@2026-06-01' = {
  name: name
  properties: {
    category: 'Cost'
    amount: amount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: startDate
    }
    notifications: toObject(
      notifications,
      n => '${n.thresholdType}_GreaterThan_${n.threshold}_Percent',
      n => {
        enabled: true
        operator: 'GreaterThan'
        threshold: n.threshold
        thresholdType: n.thresholdType
        contactEmails: contactEmails
        contactRoles: ['Owner']
        contactGroups: [actionGroupResourceId]
      }
    )
  }
}

@description('The resource id of the budget.')
output resourceId string = budget.id
