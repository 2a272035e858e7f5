// Package egress decides where golive's outbound calls may go: the HTTP
// checks it probes and the webhooks it posts notices to, whose URLs are
// chosen by whoever writes an UpdateRequest.
//
// A Policy is built from the manager's --egress-allow list of CIDRs and host
// names. Its Client checks the address of every connection at dial time, on
// the IP the host name resolved to, so neither DNS rebinding nor a redirect
// gets around it. Describe turns any failure of a call into a coarse class
// that says nothing about the network behind the URL; the detailed error
// belongs in golive's own log.
//
//	policy, err := egress.Parse(splitList(egressAllow))
//	httpClient := policy.Client()
//	...
//	if err != nil {
//		message := egress.Describe(err) // "refused by golive's egress policy", "unreachable", "timed out"
//	}
package egress
