// Package ledgerkey reads the ledger key, golive's HMAC key for ledger
// entries, from its Secret, and creates the Secret with a random key on the
// first start. It is apart from package ledger so that the ledger's signing
// and verification stay pure.
package ledgerkey
