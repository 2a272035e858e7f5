// Package admission is golive's admission webhooks for UpdateRequests: it owns
// the command annotations, the rules that decide them, the SubjectAccessReviews
// (and their short cache) that check who may give them, and the refusals.
//
// People act on a request with command annotations (golive.dev/approve,
// reject, accept, abort). The mutating webhook checks who they are and whether
// the command is allowed now, turns it into an entry of the golive.dev/ledger
// annotation signed with a key only golive knows (package ledger), and removes
// the command. The validating webhook refuses every other change of the ledger
// and of golive.dev/requested-by, spec changes once production may have
// changed, and staging namespaces that did not opt in (package namespaces).
// The controller trusts only the entries ledger.Verify accepts; it does not
// import this package.
package admission
