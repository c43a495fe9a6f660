// The requests every section sends: one team; Graph's documented example body (its
// lastActionDateTime is in 2016, which the create rules now refuse: a client's
// lastActionDateTime lies between the operation's creation and the server's clock),
// on which the body guard is measured; and the same body without that timestamp,
// which every create sends.
export const TEAM = "3f1a7e6c-1d2b-4c5d-9e8f-0a1b2c3d4e5f";
export const BODY = JSON.stringify({
  operationType: "archiveTeam",
  status: "inProgress",
  lastActionDateTime: "2016-12-31T23:56:44.8542569+03:00",
  attemptsCount: 1,
  targetResourceId: "fa4aa5a2-a75b-4769-86f4-9e2742a18fda",
  targetResourceLocation: "https://graph.microsoft.com/v1.0/groups('fa4aa5a2-a75b-4769-86f4-9e2742a18fda')/team",
});
export const CREATE_BODY = JSON.stringify({ ...JSON.parse(BODY), lastActionDateTime: undefined });
