package freetext

import "testing"

func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "looks good, ship it", "looks good, ship it"},
		{"unicode kept", "grüße – ok ✓", "grüße – ok ✓"},
		{"CSI colour", "\x1b[31mred\x1b[0m text", "red text"},
		{"clear screen", "\x1b[2J\x1b[Happroved", "approved"},
		{"OSC title with BEL", "\x1b]0;owned\x07after", "after"},
		{"OSC hyperlink with ST", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"C1 CSI", "\u009b31mred", "red"},
		{"lone escape at end", "tail\x1b", "tail"},
		{"line breaks and tabs", "one\ntwo\r\nthree\tfour", "one two  three four"},
		{"other C0 and DEL", "a\x00b\x07c\x7fd", "abcd"},
		{"bidi override", "abc\u202edcba\u202c", "abcdcba"},
		{"bidi isolate", "\u2066x\u2069", "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OneLine(tc.in); got != tc.want {
				t.Errorf("OneLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFirstDisallowed(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           string
		newlines     bool
		wantRune     rune
		wantPosition int
		wantFound    bool
	}{
		{name: "plain", in: "ok; fine\twith tab"},
		{name: "newline allowed", in: "two\nlines", newlines: true},
		{name: "newline refused", in: "two\nlines", wantRune: '\n', wantPosition: 4, wantFound: true},
		{name: "escape", in: "é\x1b[2J", wantRune: 0x1b, wantPosition: 2, wantFound: true},
		{name: "C1", in: "x\u0085", wantRune: 0x85, wantPosition: 2, wantFound: true},
		{name: "bidi", in: "\u202e", wantRune: 0x202e, wantPosition: 1, wantFound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, position, found := FirstDisallowed(tc.in, tc.newlines)
			if r != tc.wantRune || position != tc.wantPosition || found != tc.wantFound {
				t.Errorf("FirstDisallowed(%q) = %U, %d, %v; want %U, %d, %v", tc.in, r, position, found, tc.wantRune, tc.wantPosition, tc.wantFound)
			}
		})
	}
}
