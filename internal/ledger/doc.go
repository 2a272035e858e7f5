// Package ledger owns the golive.dev/ledger annotation: its encoding, the
// signatures of its entries and their verification, and the spec hash that
// entries (and the lifecycle) are bound to.
//
// The admission webhook (internal/admission) signs an entry for each command
// it accepts and appends it; the controller trusts only the entries Verify
// accepts. Everything here is pure: values in, values out, no client. The
// key's Secret is read and created by the subpackage ledgerkey.
package ledger
