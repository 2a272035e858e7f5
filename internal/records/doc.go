// Package records builds, signs and verifies ReleaseRecords: golive's
// immutable record of an UpdateRequest, written once into the archive
// namespace when the request ends. Each record is signed with golive's
// Ed25519 key and holds the digest of the record before it from the same
// source namespace, so that a deleted, altered or reordered record shows.
//
// Everything here is pure: values in, values out, no client. Verification
// works offline, from exported records and the public keys, so an auditor
// need not trust the cluster. The key's Secret and the published public keys
// are handled by the subpackage recordkey.
package records
