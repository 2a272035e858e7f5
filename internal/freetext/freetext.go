// Package freetext keeps the free text people write (comments, reasons,
// descriptions) from acting on whoever reads it: control characters, ANSI
// escape sequences and bidirectional overrides can repaint a terminal or make
// text read differently from what it is.
package freetext

import "strings"

// Disallowed reports whether r may not appear in free text: C0 controls
// (except tab and, when newlines are allowed, line feed), DEL, C1 controls,
// and the bidirectional embeddings, overrides and isolates
// (U+202A–U+202E, U+2066–U+2069).
func Disallowed(r rune, newlines bool) bool {
	switch {
	case r == '\t', newlines && r == '\n':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// FirstDisallowed returns the first rune of s that Disallowed refuses and its
// position in characters (from 1), or ok false when there is none.
func FirstDisallowed(s string, newlines bool) (r rune, position int, ok bool) {
	position = 0
	for _, r := range s {
		position++
		if Disallowed(r, newlines) {
			return r, position, true
		}
	}
	return 0, 0, false
}

// OneLine makes s safe to print on one line of a terminal: ANSI escape
// sequences are removed whole, tabs and line breaks become spaces, and every
// other disallowed character is dropped.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return Disallowed(r, false) }) {
		return s
	}
	var b strings.Builder
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case r == 0x1b || r == 0x9b || r == 0x9d:
			i = endOfEscape(runes, i)
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case Disallowed(r, false):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// endOfEscape returns the index of the last rune of the escape sequence that
// starts at runes[i]: CSI (ESC [ or U+009B) up to its final byte, OSC (ESC ]
// or U+009D) up to BEL or ESC \, any other ESC with the character after it.
func endOfEscape(runes []rune, i int) int {
	kind := runes[i]
	if kind == 0x1b {
		if i+1 >= len(runes) {
			return i
		}
		i++
		switch runes[i] {
		case '[':
			kind = 0x9b
		case ']':
			kind = 0x9d
		default:
			return i
		}
	}
	for j := i + 1; j < len(runes); j++ {
		switch {
		case kind == 0x9b && runes[j] >= 0x40 && runes[j] <= 0x7e:
			return j
		case kind == 0x9d && runes[j] == 0x07:
			return j
		case kind == 0x9d && runes[j] == 0x1b && j+1 < len(runes) && runes[j+1] == '\\':
			return j + 1
		case kind == 0x9d && runes[j] == 0x9c:
			return j
		}
	}
	return len(runes) - 1
}
