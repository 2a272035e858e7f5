package records

import (
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// What Verify found wrong with a record.
const (
	// ProblemMalformed: the record cannot be read as a ReleaseRecord.
	ProblemMalformed = "Malformed"
	// ProblemUnknownKey: the record is signed with a key none of the public
	// keys given names.
	ProblemUnknownKey = "UnknownKey"
	// ProblemAltered: the record's signature does not match its content.
	ProblemAltered = "Altered"
	// ProblemMissing: a record of the chain is not there.
	ProblemMissing = "Missing"
	// ProblemReordered: the record comes before a record it follows in the chain.
	ProblemReordered = "Reordered"
	// ProblemDuplicate: two records claim the same place in the chain.
	ProblemDuplicate = "Duplicate"
	// ProblemBrokenLink: the record does not hold the digest of the record before it.
	ProblemBrokenLink = "BrokenLink"
)

// Stored is a record as an export or the API server holds it: its name and
// its spec as JSON, verified as it is, not as golive's Go types read it.
type Stored struct {
	Name string
	Spec json.RawMessage
}

// Problem is something Verify found wrong.
type Problem struct {
	// Kind is one of the Problem* constants.
	Kind string
	// Namespace is the source namespace of the chain the problem is in.
	Namespace string
	// Sequence is the place in the chain of the record concerned.
	Sequence int64
	// Record is the record's name; empty for a missing one.
	Record string
	// Message says what is wrong, naming the records.
	Message string
}

// Report is what Verify found: how many records it checked and their problems.
type Report struct {
	// Records counts the records checked.
	Records int
	// Chains counts the source namespaces.
	Chains int
	// Problems in the order of the chains (namespaces sorted) and their records.
	Problems []Problem
}

// header is what Verify reads of a record besides its canonical content.
type header struct {
	Request struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"request"`
	Chain struct {
		Sequence int64  `json:"sequence"`
		Previous string `json:"previous"`
	} `json:"chain"`
	Signature struct {
		KeyID string `json:"keyID"`
		Value string `json:"value"`
	} `json:"signature"`
}

// checked is a record read and its signature checked.
type checked struct {
	Stored
	header
	position int
	digest   string
	// trusted: the signature verified.
	trusted bool
}

// Verify checks every record's signature with keys (by key ID) and every
// link of each source namespace's chain: the records of a namespace must be
// given in the order of their chain (as golive exports them), from its first
// record, each holding the digest of the one before. It names each record
// that is altered, missing, reordered or duplicated. It trusts nothing the
// records say that their signature does not cover.
func Verify(stored []Stored, keys map[string]ed25519.PublicKey) Report {
	report := Report{Records: len(stored)}
	chains := map[string][]*checked{}
	for i, s := range stored {
		record := &checked{Stored: s, position: i}
		if problem, ok := check(record, keys); !ok {
			report.Problems = append(report.Problems, problem)
			if problem.Kind == ProblemMalformed {
				continue
			}
		}
		chains[record.Request.Namespace] = append(chains[record.Request.Namespace], record)
	}
	namespaces := make([]string, 0, len(chains))
	for namespace := range chains {
		namespaces = append(namespaces, namespace)
	}
	slices.Sort(namespaces)
	report.Chains = len(namespaces)
	for _, namespace := range namespaces {
		report.Problems = append(report.Problems, verifyChain(namespace, chains[namespace])...)
	}
	return report
}

// check reads record and checks its signature.
func check(record *checked, keys map[string]ed25519.PublicKey) (Problem, bool) {
	malformed := func(message string) (Problem, bool) {
		return Problem{Kind: ProblemMalformed, Record: record.Name, Message: fmt.Sprintf("record %s cannot be read: %s", record.Name, message)}, false
	}
	if err := json.Unmarshal(record.Spec, &record.header); err != nil {
		return malformed(err.Error())
	}
	if record.Request.Namespace == "" || record.Chain.Sequence < 1 {
		return malformed("it names no source namespace or no place in a chain")
	}
	content, err := signedContentOf(record.Spec)
	if err != nil {
		return malformed(err.Error())
	}
	record.digest = digestOf(content)
	problem := Problem{Namespace: record.Request.Namespace, Sequence: record.Chain.Sequence, Record: record.Name}
	key, ok := keys[record.Signature.KeyID]
	if !ok {
		problem.Kind = ProblemUnknownKey
		problem.Message = fmt.Sprintf("record %s (%s) is signed with key %q, which is not among the public keys given", record.Name, place(record), record.Signature.KeyID)
		return problem, false
	}
	signature, err := base64.StdEncoding.DecodeString(record.Signature.Value)
	if err != nil || !ed25519.Verify(key, content, signature) {
		problem.Kind = ProblemAltered
		problem.Message = fmt.Sprintf("record %s (%s) was altered: its signature does not match its content", record.Name, place(record))
		return problem, false
	}
	record.trusted = true
	return Problem{}, true
}

// verifyChain checks the links of one namespace's records, given in file order.
func verifyChain(namespace string, records []*checked) []Problem {
	var problems []Problem
	add := func(kind string, record *checked, sequence int64, format string, args ...any) {
		p := Problem{Kind: kind, Namespace: namespace, Sequence: sequence, Message: fmt.Sprintf(format, args...)}
		if record != nil {
			p.Record = record.Name
		}
		problems = append(problems, p)
	}
	// The file keeps the chain's order; a record after one it precedes was moved.
	for i := 1; i < len(records); i++ {
		before, record := records[i-1], records[i]
		if record.Chain.Sequence < before.Chain.Sequence {
			add(ProblemReordered, record, record.Chain.Sequence,
				"record %s (%s) is out of order: it comes after record %s (#%d), which follows it in the chain",
				record.Name, place(record), before.Name, before.Chain.Sequence)
		}
	}
	ordered := slices.Clone(records)
	slices.SortStableFunc(ordered, func(a, b *checked) int { return cmp.Compare(a.Chain.Sequence, b.Chain.Sequence) })
	var previous *checked
	for _, record := range ordered {
		switch {
		case previous == nil && record.Chain.Sequence > 1:
			add(ProblemMissing, nil, 1, "%s of namespace %s missing before record %s (#%d)",
				missingRange(1, record.Chain.Sequence-1), namespace, record.Name, record.Chain.Sequence)
		case previous == nil && record.Chain.Previous != "" && record.trusted:
			add(ProblemBrokenLink, record, record.Chain.Sequence, "record %s (%s) is the first of its chain but names a previous record", record.Name, place(record))
		case previous != nil && record.Chain.Sequence == previous.Chain.Sequence:
			add(ProblemDuplicate, record, record.Chain.Sequence, "records %s and %s both claim place #%d of namespace %s",
				previous.Name, record.Name, record.Chain.Sequence, namespace)
			continue
		case previous != nil && record.Chain.Sequence > previous.Chain.Sequence+1:
			add(ProblemMissing, nil, previous.Chain.Sequence+1, "%s of namespace %s missing between record %s (#%d) and record %s (#%d)",
				missingRange(previous.Chain.Sequence+1, record.Chain.Sequence-1), namespace,
				previous.Name, previous.Chain.Sequence, record.Name, record.Chain.Sequence)
		case previous != nil && record.trusted && previous.trusted && record.Chain.Previous != previous.digest:
			// An altered predecessor is named already; its digest changed with it.
			add(ProblemBrokenLink, record, record.Chain.Sequence,
				"record %s (%s) does not follow record %s (#%d): it holds the digest of another record",
				record.Name, place(record), previous.Name, previous.Chain.Sequence)
		}
		previous = record
	}
	return problems
}

func place(record *checked) string {
	return fmt.Sprintf("#%d of namespace %s", record.Chain.Sequence, record.Request.Namespace)
}

func missingRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("record #%d is", from)
	}
	return fmt.Sprintf("records #%d to #%d are", from, to)
}

// Summary is a one-line account of report.
func (r Report) Summary() string {
	if len(r.Problems) == 0 {
		return fmt.Sprintf("Verified %s in %s: every signature and every link holds.", counted(r.Records, "record"), counted(r.Chains, "chain"))
	}
	kinds := map[string]int{}
	for _, p := range r.Problems {
		kinds[p.Kind]++
	}
	var parts []string
	for _, kind := range []string{ProblemMissing, ProblemAltered, ProblemReordered, ProblemDuplicate, ProblemBrokenLink, ProblemUnknownKey, ProblemMalformed} {
		if n := kinds[kind]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(kind)))
		}
	}
	return fmt.Sprintf("Checked %s in %s: %s (%s).", counted(r.Records, "record"), counted(r.Chains, "chain"),
		counted(len(r.Problems), "problem"), strings.Join(parts, ", "))
}

// counted is n and noun, plural unless n is 1.
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
