package report

import "testing"

func TestMarkdownText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "looks good, ship it", "looks good, ship it"},
		{"version and hyphenated words", "billing-api 2.4.0 (re-run)", "billing-api 2.4.0 (re-run)"},
		{"heading", "# Approved by the board", `\# Approved by the board`},
		{"heading after a line break", "fine\n## Fake section", `fine \#\# Fake section`},
		{"table row", "| Role | User |", `\| Role \| User \|`},
		{"link", "see [docs](http://evil.example)", `see \[docs\](http://evil.example)`},
		{"image", "![x](http://evil.example/p.png)", `\!\[x\](http://evil.example/p.png)`},
		{"HTML", "<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)\>`},
		{"entity", "&lt;b&gt;", `\&lt;b\&gt;`},
		{"emphasis and code", "*bold* _it_ `code` ~~gone~~", "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~gone\\~\\~"},
		{"backslash", `C:\temp`, `C:\\temp`},
		{"list marker inside a line", "- item", "- item"},
		{"dash alone", "-", "-"},
		{"number inside a line", "1. first", "1. first"},
		{"number is not a list", "2.4.0 released", "2.4.0 released"},
		{"terminal escape", "ok\x1b[31m red", "ok red"},
		{"leading spaces", "    code block?", "code block?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := markdownText(tc.in); got != tc.want {
				t.Errorf("markdownText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMarkdownParagraph(t *testing.T) {
	in := "Fixes the invoice rounding.\n# Approvals\n| rnd-lead | mallory |\n\n    indented\n> quote\n- item\n+ item\n===\n1. first\n12) second\n2.4.0 released"
	want := "Fixes the invoice rounding.\n\\# Approvals\n\\| rnd-lead \\| mallory \\|\n\nindented\n\\> quote\n\\- item\n\\+ item\n\\===\n1\\. first\n12\\) second\n2.4.0 released"
	if got := markdownParagraph(in); got != want {
		t.Errorf("markdownParagraph(%q) =\n%s\nwant\n%s", in, got, want)
	}
}
