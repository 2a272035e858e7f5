package admission

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	golivev1alpha1 "github.com/golive-dev/golive/api/v1alpha1"
	"github.com/golive-dev/golive/internal/freetext"
	"github.com/golive-dev/golive/internal/ledger"
)

// commandAnnotation is an annotation people set to give a command.
type commandAnnotation struct {
	annotation string
	action     golivev1alpha1.LedgerAction
}

// commandAnnotations are the command annotations, in the order they are looked for.
var commandAnnotations = []commandAnnotation{
	{golivev1alpha1.AnnotationApprove, golivev1alpha1.LedgerApprove},
	{golivev1alpha1.AnnotationReject, golivev1alpha1.LedgerReject},
	{golivev1alpha1.AnnotationAccept, golivev1alpha1.LedgerAccept},
	{golivev1alpha1.AnnotationGo, golivev1alpha1.LedgerGo},
	{golivev1alpha1.AnnotationRetry, golivev1alpha1.LedgerRetry},
	{golivev1alpha1.AnnotationAbort, golivev1alpha1.LedgerAbort},
}

// Command is one parsed command annotation.
type Command struct {
	Action golivev1alpha1.LedgerAction
	// Role is the role named by approve and reject; accept, go, retry and abort name none.
	Role string
	// Comment is the text after the role, the accept, go or retry comment, or the abort reason.
	Comment string
}

// ParseCommand reads the value of a command annotation: "<role>[; comment]"
// for approve and reject, "[comment]" for accept, go and retry, "<reason>" for abort.
func ParseCommand(action golivev1alpha1.LedgerAction, value string) (Command, error) {
	command := Command{Action: action}
	value = strings.TrimSpace(value)
	switch action {
	case golivev1alpha1.LedgerApprove, golivev1alpha1.LedgerReject:
		role, comment, _ := strings.Cut(value, ";")
		command.Role, command.Comment = strings.TrimSpace(role), strings.TrimSpace(comment)
		if command.Role == "" {
			return command, fmt.Errorf("%s needs a role: \"<role>[; comment]\"", annotationOf(action))
		}
		if !isRoleName(command.Role) {
			return command, fmt.Errorf("%q is not a role name (lower-case letters, digits and '-', at most 63): the value is \"<role>[; comment]\"", command.Role)
		}
	case golivev1alpha1.LedgerAccept, golivev1alpha1.LedgerGo, golivev1alpha1.LedgerRetry:
		command.Comment = value
	case golivev1alpha1.LedgerAbort:
		command.Comment = value
		if command.Comment == "" {
			return command, fmt.Errorf("%s needs a reason", annotationOf(action))
		}
	default:
		return command, fmt.Errorf("unknown command %q", action)
	}
	if n := utf8.RuneCountInString(command.Comment); n > ledger.MaxCommentLength {
		return command, fmt.Errorf("the comment has %d characters; at most %d are kept", n, ledger.MaxCommentLength)
	}
	// Refused rather than stripped: the signed entry records exactly what was written.
	if r, position, found := freetext.FirstDisallowed(command.Comment, true); found {
		return command, fmt.Errorf("the comment contains the control character %U at character %d: control characters, terminal escapes and bidirectional overrides are refused in comments and reasons",
			r, position)
	}
	return command, nil
}

// annotationOf is the annotation that gives action.
func annotationOf(action golivev1alpha1.LedgerAction) string {
	for _, c := range commandAnnotations {
		if c.action == action {
			return c.annotation
		}
	}
	return string(action)
}

// isRoleName reports whether role is a DNS label, as spec.approvals roles are.
func isRoleName(role string) bool {
	if role == "" || len(role) > 63 || role[0] == '-' || role[len(role)-1] == '-' {
		return false
	}
	return !strings.ContainsFunc(role, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-'
	})
}

// newCommands lists the command annotations that annotations carries and
// previous did not carry with the same value: only those were given now.
// Commands carried over unchanged were left by a write that no webhook saw
// (one made before golive was installed) and are never acted on.
func newCommands(annotations, previous map[string]string) (given, stale []string) {
	for _, c := range commandAnnotations {
		value, ok := annotations[c.annotation]
		if !ok {
			continue
		}
		if old, had := previous[c.annotation]; had && old == value {
			stale = append(stale, c.annotation)
			continue
		}
		given = append(given, c.annotation)
	}
	return given, stale
}

// carriesCommand reports whether annotations hold any command annotation.
func carriesCommand(annotations map[string]string) bool {
	return slices.ContainsFunc(commandAnnotations, func(c commandAnnotation) bool {
		_, ok := annotations[c.annotation]
		return ok
	})
}

// actionOf is the action that annotation gives.
func actionOf(annotation string) golivev1alpha1.LedgerAction {
	for _, c := range commandAnnotations {
		if c.annotation == annotation {
			return c.action
		}
	}
	return ""
}
