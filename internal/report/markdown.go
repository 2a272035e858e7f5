package report

import (
	"strings"

	"github.com/golive-dev/golive/internal/freetext"
)

// markdownInline are the characters that start or end Markdown inline syntax
// anywhere on a line: emphasis, code, links and images, HTML and
// autolinks, entities, table cells, strikethrough, and the backslash itself.
const markdownInline = "\\`*_[]<>|~!&#"

// markdownText escapes text people wrote (comments, reasons, descriptions,
// names) for the inside of a line of a report (a table cell, a list item's
// value): it shows as the text it is, and can open no section, table cell,
// link or HTML. Control characters go first.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(freetext.OneLine(s)), " ") {
		if strings.ContainsRune(markdownInline, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// markdownParagraph escapes multi-line text for a paragraph of its own: each
// line is escaped as markdownText does, so none starts a block; blank lines
// still part paragraphs.
func markdownParagraph(s string) string {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n"), "\n")
	for i, line := range lines {
		lines[i] = escapeBlockStart(markdownText(line))
	}
	return strings.Join(lines, "\n")
}

// escapeBlockStart escapes what would make a line of a paragraph start a
// block: a list item or a setext underline (headings, quotes, fences and
// HTML start with characters markdownText escapes already; leading spaces,
// an indented code block, it has removed).
func escapeBlockStart(escaped string) string {
	if escaped != "" && strings.ContainsRune("-+=", rune(escaped[0])) {
		return `\` + escaped
	}
	// An ordered list item: digits then "." or ")" and a space, or the end.
	digits := len(escaped) - len(strings.TrimLeft(escaped, "0123456789"))
	if digits > 0 && digits < len(escaped) && (escaped[digits] == '.' || escaped[digits] == ')') &&
		(digits+1 == len(escaped) || escaped[digits+1] == ' ') {
		escaped = escaped[:digits] + `\` + escaped[digits:]
	}
	return escaped
}
