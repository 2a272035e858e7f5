// Package approval is golive's admission webhook for UpdateRequests and its
// signed ledger.
//
// People act on a request with command annotations (golive.dev/approve,
// reject, accept, abort). The mutating webhook checks who they are and whether
// the command is allowed now, turns it into an entry of the golive.dev/ledger
// annotation signed with a key only golive knows (HMAC-SHA256), and removes the
// command. The validating webhook refuses every other change of the ledger and
// of golive.dev/requested-by, spec changes once production may have changed,
// and staging namespaces that did not opt in. The controller trusts only the
// entries VerifyLedger accepts.
package approval
