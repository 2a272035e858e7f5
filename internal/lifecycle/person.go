package lifecycle

import "strings"

// SamePerson reports whether two user names name the same person for the
// four-eyes rules (the requester may not approve, each person counts once).
// Identity providers differ in case and may pad names, so the comparison errs
// on the side of one person: "Bob" and "bob " are the same, and neither may
// approve what the other requested. An empty name is nobody.
func SamePerson(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// countedPerson reports whether user is one of people by SamePerson.
func countedPerson(people []string, user string) bool {
	for _, person := range people {
		if SamePerson(person, user) {
			return true
		}
	}
	return false
}
